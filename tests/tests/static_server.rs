//! The reference server hosts published content the way downloads need: byte ranges and
//! validators. Checked over a real loopback socket with raw HTTP, so nothing is assumed about
//! the client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpStream;

use satchel_tests::ServerProcess;

fn get(addr: std::net::SocketAddr, path: &str, extra_headers: &str) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra_headers}\r\n")
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
    (String::from_utf8_lossy(&response[..split]).into_owned(), response[split + 4..].to_vec())
}

fn head_value(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
    })
}

#[test]
fn serves_files_with_ranges_and_validators() {
    let dir = tempfile::tempdir().unwrap();
    let content: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::create_dir_all(dir.path().join("blobs")).unwrap();
    std::fs::write(dir.path().join("blobs/abc"), &content).unwrap();
    let server = ServerProcess::serve(dir.path()).unwrap();

    let (head, body) = get(server.addr, "/blobs/abc", "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("last-modified:"), "{head}");
    assert_eq!(body, content);

    let (head, body) = get(server.addr, "/blobs/abc", "Range: bytes=1000-1999\r\n");
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-range: bytes 1000-1999/100000"), "{head}");
    assert_eq!(body, &content[1000..2000]);

    // If-Range: the current strong ETag keeps the range; a stale one gets the whole file.
    let etag = head_value(&head, "etag").expect("ETag");
    assert!(etag.starts_with('"'), "a strong ETag: {etag}");
    let (head, body) = get(server.addr, "/blobs/abc", &format!("Range: bytes=1000-\r\nIf-Range: {etag}\r\n"));
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert_eq!(body, &content[1000..]);
    let (head, body) = get(server.addr, "/blobs/abc", "Range: bytes=1000-\r\nIf-Range: \"stale\"\r\n");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, content);
    let (head, _) = get(server.addr, "/blobs/abc", &format!("If-None-Match: {etag}\r\n"));
    assert!(head.starts_with("HTTP/1.1 304"), "{head}");

    let (head, _) = get(server.addr, "/blobs/abc", "Range: bytes=200000-\r\n");
    assert!(head.starts_with("HTTP/1.1 416"), "{head}");

    let (head, _) = get(server.addr, "/blobs/missing", "");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    let (head, _) = get(server.addr, "/../../etc/passwd", "");
    assert!(!head.starts_with("HTTP/1.1 200"), "path traversal must not serve files: {head}");
}
