//! Every JSON example in docs/protocol.md marked `<!-- example: TYPE -->` must decode into
//! that type, pass its validation, and encode back to the same JSON: the spec cannot drift
//! from the code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use satchel_protocol::Record;
use satchel_protocol::messages::{
    ErrorBody, PullRequest, PullResponse, PushRequest, PushResponse, RegisterRequest, RegisterResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn examples() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    let doc = std::fs::read_to_string(path).expect("docs/protocol.md is readable");
    let mut found = Vec::new();
    let mut rest = doc.as_str();
    while let Some(start) = rest.find("<!-- example: ") {
        rest = &rest[start + "<!-- example: ".len()..];
        let (name, after) = rest.split_once(" -->").expect("an example marker ends with -->");
        let body = after.trim_start().strip_prefix("```json\n").expect("a ```json block follows the marker");
        let (json, after) = body.split_once("\n```").expect("the json block is closed");
        found.push((name.to_owned(), json.to_owned()));
        rest = after;
    }
    found
}

fn round_trip<T: DeserializeOwned + Serialize>(name: &str, json: &str) -> T {
    let value: T =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("example {name} does not decode: {e}"));
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(serde_json::to_value(&value).unwrap(), doc, "example {name} does not encode back to itself");
    value
}

#[test]
fn every_example_matches_the_code() {
    let examples = examples();
    let names: Vec<&str> = examples.iter().map(|(n, _)| n.as_str()).collect();
    for wanted in [
        "RegisterRequest",
        "RegisterResponse",
        "PushRequest",
        "PushResponse",
        "PullRequest",
        "PullResponse",
        "ErrorBody",
        "Record",
    ] {
        assert!(names.contains(&wanted), "docs/protocol.md has no {wanted} example");
    }
    for (name, json) in &examples {
        match name.as_str() {
            "RegisterRequest" => round_trip::<RegisterRequest>(name, json).validate().unwrap(),
            "RegisterResponse" => drop(round_trip::<RegisterResponse>(name, json)),
            "PushRequest" => {
                let push = round_trip::<PushRequest>(name, json);
                push.validate().unwrap();
                for op in &push.ops {
                    op.record.validate().unwrap();
                }
            }
            "PushResponse" => drop(round_trip::<PushResponse>(name, json)),
            "PullRequest" => round_trip::<PullRequest>(name, json).validate().unwrap(),
            "PullResponse" => {
                for pulled in round_trip::<PullResponse>(name, json).records {
                    pulled.record.validate().unwrap();
                }
            }
            "ErrorBody" => drop(round_trip::<ErrorBody>(name, json)),
            "Record" => round_trip::<Record>(name, json).validate().unwrap(),
            other => panic!("unknown example type {other}"),
        }
    }
}
