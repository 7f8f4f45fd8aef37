//! The CLI shell end to end: real processes, a real account directory on disk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::process::Command;

use satchel_tests::{sample_manifest_path, workspace_bin};

fn satchel(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(workspace_bin("satchel").unwrap()).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_demo_shows_the_whole_sample_course() {
    let (ok, stdout, stderr) = satchel(&["demo"]);
    assert!(ok, "demo failed: {stderr}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample_manifest_path()).unwrap()).unwrap();
    for module in manifest["modules"].as_array().unwrap() {
        assert!(stdout.contains(module["title"].as_str().unwrap()), "module missing from:\n{stdout}");
        for lesson in module["lessons"].as_array().unwrap() {
            assert!(stdout.contains(lesson["title"].as_str().unwrap()), "lesson missing from:\n{stdout}");
        }
    }
    // The real pipeline: the packed sample course from the embedded server, signature checked
    // (cargo xtask test installs the media tools the sample lectures are rendered with).
    assert!(stdout.contains("verified the publisher's signature"), "{stdout}");
    assert!(stdout.contains("imported web-basics v1: 4 modules, 10 lessons (Installed)"), "{stdout}");
    assert!(stdout.contains("Blocked: 3 downloads wait for Wi-Fi, not a byte spent on cellular"), "{stdout}");
    assert!(stdout.contains("3 lessons downloaded and verified in"), "{stdout}");
    assert!(stdout.contains(", 0 B on cellular; lite saved"), "{stdout}");
    assert!(stdout.contains("verified files on the phone"), "{stdout}");
    assert!(stdout.contains("ready to play: speech audio with 8 slides in time and"), "{stdout}");
    assert!(
        stdout.contains("-> What happens when you open a page (How the web works; offline: lite)"),
        "{stdout}"
    );
    let saves = stdout.lines().find(|l| l.starts_with("Lite saves")).expect("lite savings line");
    let percent: f64 = saves.rsplit('(').next().unwrap().split('%').next().unwrap().parse().unwrap();
    assert!(percent <= 5.0, "lite is at most 5% of full: {saves}");
    // The learner's day offline: the whole lecture played.
    let watched = stdout
        .lines()
        .find(|l| l.starts_with("What happens when you open a page: complete · watched"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let times: Vec<&str> =
        watched.split(" · ").nth(1).unwrap().trim_start_matches("watched ").split(" of ").collect();
    assert_eq!(times[0], times[1], "{watched}");
    assert!(stdout.contains("Check yourself: HTTP: 60% (passed) graded on the phone"), "{stdout}");
    assert!(stdout.contains("Final check: submitted; the server grades it on the next sync"), "{stdout}");
    assert!(stdout.contains("course 30% complete (3 of 10 lessons)"), "{stdout}");
    assert!(stdout.contains("> The host is looked up with DNS"), "the export quotes the highlight: {stdout}");
    assert!(stdout.contains("9 changes wait in the outbox for sync"), "{stdout}");
    // Back online: the phone syncs; the server grades the final check and the pass comes back.
    let synced = stdout.split("== Back online: the phone syncs").nth(1).expect("a sync step");
    // 9 changes, and a 10th when the graded pass pulled back (which completes the lesson) is
    // pushed in a second round.
    assert!(
        synced.contains("pushed 9 changes, pulled") || synced.contains("pushed 10 changes, pulled"),
        "{synced}"
    );
    assert!(synced.contains("0 refused by the server, 0 waiting"), "{synced}");
    // The second device pulls the same progress, notes and attempts.
    let tablet = stdout.split("== The learner's tablet signs in").nth(1).expect("a second device");
    assert!(tablet.contains("course 40% complete (4 of 10 lessons)"), "{tablet}");
    assert!(tablet.contains("note on web-basics.what-happens: The browser asks DNS"), "{tablet}");
    assert!(tablet.contains("note on web-basics.reading-urls: Same DNS as in the lecture."), "{tablet}");
    assert!(tablet.contains("Check yourself: HTTP: 60% (passed), graded"), "{tablet}");
    assert!(tablet.contains("Final check: 100% (passed), graded"), "{tablet}");
    // The summary table.
    assert!(stdout.contains("waiting to sync     0 changes (9 before reconnecting)"), "{stdout}");
    let saved = stdout.lines().find(|l| l.trim_start().starts_with("data saved by lite")).expect("saved row");
    assert!(!saved.ends_with(" 0 B"), "{saved}");
    assert!(stdout.contains("demo took"), "{stdout}");
    assert!(!stdout.contains("DEGRADED"), "{stdout}");
}

/// Without ffmpeg and espeak-ng the demo says loudly that it runs catalog-only, and still syncs
/// the day to a second device; with `--require-media` it refuses instead.
#[test]
fn without_media_tools_the_demo_is_labelled_degraded_and_can_be_refused() {
    let empty = tempfile::tempdir().unwrap();
    let demo = |args: &[&str]| {
        Command::new(workspace_bin("satchel").unwrap()).args(args).env("PATH", empty.path()).output().unwrap()
    };
    let out = demo(&["demo"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("*** DEGRADED MODE: catalog only ***"), "{stdout}");
    assert!(
        stdout.contains("(DEGRADED MODE: catalog only. `cargo xtask demo` shows the whole day.)"),
        "{stdout}"
    );
    assert!(!stdout.contains("verified files on the phone"), "{stdout}");
    assert!(stdout.contains("pushed 9 changes"), "{stdout}");
    assert!(stdout.contains("Check yourself: HTTP: 60% (passed), graded"), "{stdout}");

    let out = demo(&["demo", "--require-media"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cargo xtask demo"), "{stderr}");
}

#[test]
fn an_account_persists_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acct");
    let account = account.to_str().unwrap();
    let manifest = sample_manifest_path();

    let (ok, stdout, stderr) = satchel(&["import", "--account", account, manifest.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "web-basics v1: Installed");

    let (ok, stdout, _) = satchel(&["courses", "--account", account]);
    assert!(ok);
    assert!(
        stdout.starts_with("web-basics  Web Basics for Support Technicians (v1, 3 modules, 8 lessons)"),
        "{stdout}"
    );

    let (ok, stdout, _) = satchel(&["import", "--account", account, manifest.to_str().unwrap()]);
    assert!(ok);
    assert_eq!(stdout.trim(), "web-basics v1: Unchanged");

    let (ok, stdout, _) = satchel(&["outline", "--account", account, "web-basics"]);
    assert!(ok);
    assert!(stdout.contains("3. When things break"), "{stdout}");
}

#[test]
fn a_bad_manifest_fails_loudly_and_leaves_the_account_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acct");
    let account = account.to_str().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"format": 1, "id": "c", "version": 1, "title": "T", "modules": [
        {"id": "m", "title": "M", "lessons": [{"id": "l", "title": "L", "kind": "podcast"}]}]}"#,
    )
    .unwrap();

    let (ok, _, stderr) = satchel(&["import", "--account", account, bad.to_str().unwrap()]);
    assert!(!ok, "a bad manifest must fail");
    assert!(stderr.contains("invalid input") && stderr.contains("podcast"), "{stderr}");

    let (ok, stdout, _) = satchel(&["courses", "--account", account]);
    assert!(ok);
    assert!(stdout.trim().is_empty(), "nothing imported: {stdout}");
}

/// Issue 16, case 5: a course whose titles carry terminal escape sequences (retitle the window,
/// clear the screen, an 8-bit CSI, a bidi override) and an error quoting one: nothing the CLI
/// prints contains a control character other than its own line breaks.
#[test]
fn titles_and_errors_from_content_reach_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acct");
    let account = account.to_str().unwrap();
    let evil = serde_json::json!({
        "format": 1, "id": "evil", "version": 1, "title": "Course\u{1b}]0;owned\u{7}\u{1b}[2J",
        "modules": [{ "id": "evil.m", "title": "Module\u{9b}31m", "lessons": [
            { "id": "evil.l", "title": "Lesson\u{202e}txt.exe\r", "kind": "reading" }
        ]}]
    });
    let manifest = dir.path().join("evil.json");
    std::fs::write(&manifest, evil.to_string()).unwrap();
    let (ok, _, stderr) = satchel(&["import", "--account", account, manifest.to_str().unwrap()]);
    assert!(ok, "{stderr}");

    let raw = |text: &str| text.chars().any(|c| (c.is_control() && c != '\n') || c == '\u{202e}');
    let (ok, courses, _) = satchel(&["courses", "--account", account]);
    assert!(ok);
    let (ok, outline, _) = satchel(&["outline", "--account", account, "evil"]);
    assert!(ok);
    for out in [&courses, &outline] {
        assert!(!raw(out), "raw control characters in {out:?}");
    }
    assert!(courses.contains("Course\\x1b]0;owned\\x07\\x1b[2J"), "{courses}");
    assert!(
        outline.contains("Module\\u{9b}31m") && outline.contains("Lesson\\u{202e}txt.exe\\x0d"),
        "{outline}"
    );

    // An error message quoting the manifest (serde names the unknown lesson kind).
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, evil.to_string().replace("\"reading\"", "\"\\u001b[31mpodcast\"")).unwrap();
    let (ok, _, stderr) = satchel(&["import", "--account", account, bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(!raw(&stderr), "raw control characters in {stderr:?}");
    assert!(stderr.contains("\\x1b[31mpodcast"), "{stderr}");
}

// ---- Every subcommand over one real account (issue 11, item 4) ----

/// A finished `satchel` process: exit code and output.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `satchel --account DIR …` with `SATCHEL_*` variables cleared (the caller's environment must
/// not choose the account or the server).
fn run_in(account: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(workspace_bin("satchel").unwrap());
    command.arg("--account").arg(account).args(args);
    for var in ["SATCHEL_ACCOUNT", "SATCHEL_SYNC_URL", "SATCHEL_SYNC_TOKEN"] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    let out = command.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `args` with `--json`, expects success, and parses stdout as one JSON document.
fn json_in(account: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let run = run_in(account, &with_json, env);
    assert_eq!(run.code, 0, "{args:?} failed: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", run.stdout))
}

/// A failure: the documented exit code and exactly one line on stderr, starting `Error: `.
fn fails_with(run: &Run, code: i32, says: &str) {
    assert_eq!(run.code, code, "exit code (stderr: {})", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {:?}", run.stderr);
    assert!(run.stderr.starts_with("Error: "), "{:?}", run.stderr);
    assert!(run.stderr.contains(says), "{:?} should say {says:?}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn every_subcommand_works_over_a_real_account_and_its_json_parses_back() {
    use satchel_tests::ServerProcess;
    use satchel_tests::sample::{packed_sample, test_public_key};
    use satchel_tests::sync_server::SyncServer;

    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acct");
    let host = ServerProcess::serve(&packed_sample().unwrap().dir).unwrap();
    let none: &[(&str, &str)] = &[];
    let json = |args: &[&str]| json_in(&account, args, none);
    let run = |args: &[&str]| run_in(&account, args, none);

    // fetch, courses, outline
    let fetched = json(&["fetch", "--publisher-key", &test_public_key(), &host.base_url(), "web-basics"]);
    assert_eq!(fetched["course_id"], "web-basics");
    assert_eq!(fetched["status"], "installed");
    let courses = json(&["courses"]);
    assert_eq!(courses.as_array().unwrap().len(), 1);
    assert_eq!(courses[0]["lesson_count"], 10);
    let outline = json(&["outline", "web-basics"]);
    assert_eq!(outline["modules"].as_array().unwrap().len(), 4);
    let first = &outline["modules"][0]["lessons"][0];
    assert_eq!(first["id"], "web-basics.what-happens");
    assert_eq!(first["kind"], "video");

    // settings: a budget and a quota, then off again
    let settings = json(&["settings", "--budget", "5000000", "--quota", "none", "--wifi-only", "true"]);
    assert_eq!(settings["monthly_cellular_budget_bytes"], 5_000_000);
    assert_eq!(settings["storage_quota_bytes"], serde_json::Value::Null);
    assert_eq!(settings["wifi_only"], true);
    assert_eq!(json(&["settings"]), settings, "settings persist");

    // download on cellular with Wi-Fi only: blocked (exit 10), queued, nothing fetched
    let blocked = run(&["download", "--module", "web-basics.m2", "--metered", "--json"]);
    assert_eq!(blocked.code, 10, "{}", blocked.stderr);
    let report: serde_json::Value = serde_json::from_str(&blocked.stdout).unwrap();
    assert_eq!(report["outcome"], "blocked");
    assert!(blocked.stderr.lines().last().unwrap().starts_with("Error: downloads did not all finish"));
    let queue = json(&["downloads"]);
    let waiting: Vec<i64> = queue.as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert!(!waiting.is_empty());
    assert!(queue.as_array().unwrap().iter().all(|d| d["state"] == "waiting_network"), "{queue}");

    // pause / resume / cancel one of them
    let id = waiting[0].to_string();
    assert_eq!(json(&["pause", &id]), serde_json::json!({ "download_id": waiting[0], "action": "paused" }));
    let state = |id: i64| {
        json(&["downloads", "--course", "web-basics"])
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"].as_i64() == Some(id))
            .map(|d| d["state"].as_str().unwrap().to_owned())
    };
    assert_eq!(state(waiting[0]).as_deref(), Some("paused"));
    assert_eq!(run(&["resume", &id]).code, 0);
    assert_ne!(state(waiting[0]).as_deref(), Some("paused"));
    assert_eq!(run(&["cancel", &id]).code, 0);
    assert_eq!(state(waiting[0]), None, "cancelled downloads leave the queue");
    fails_with(&run(&["pause", "999999"]), 4, "not found");

    // download on Wi-Fi: done; usage counts it
    let done = json(&["download", "--lesson", "web-basics.what-happens"]);
    assert_eq!(done["outcome"], "finished");
    assert_eq!(done["downloads"][0]["state"], "done");
    let listed = run(&["downloads"]);
    assert!(
        listed.stdout.contains("web-basics.what-happens") && listed.stdout.contains("done"),
        "{}",
        listed.stdout
    );
    let usage = json(&["usage"]);
    assert!(usage["data"]["unmetered_bytes"].as_u64().unwrap() > 0, "{usage}");
    assert!(usage["data"]["saved_by_lite_bytes"].as_u64().unwrap() > 0, "{usage}");
    assert_eq!(usage["data"]["metered_bytes"], 0);
    assert!(usage["storage"]["content_bytes"].as_u64().unwrap() > 0, "{usage}");

    // notes
    let note = json(&[
        "notes",
        "add",
        "--lesson",
        "web-basics.what-happens",
        "--body",
        "DNS comes first",
        "--at",
        "80-95",
        "--tag",
        "dns",
        "--tag",
        "exam",
    ]);
    assert_eq!(note["kind"], "note");
    assert_eq!(note["anchor"]["start_ms"], 80_000);
    assert_eq!(note["tags"], serde_json::json!(["dns", "exam"]));
    let highlight = json(&[
        "notes",
        "add",
        "--lesson",
        "web-basics.reading-urls",
        "--body",
        "the host",
        "--quote",
        "The host is looked up with DNS",
        "--prefix",
        "usually https. ",
        "--color",
        "yellow",
    ]);
    assert_eq!(highlight["kind"], "highlight");
    assert_eq!(highlight["anchor"]["quote"], "The host is looked up with DNS");
    assert_eq!(json(&["notes", "list", "--course", "web-basics"]).as_array().unwrap().len(), 2);
    assert_eq!(json(&["notes", "list", "--lesson", "web-basics.reading-urls"])[0]["id"], highlight["id"]);
    let found = json(&["notes", "search", "dns"]);
    assert!(found.as_array().unwrap().iter().any(|n| n["id"] == note["id"]), "{found}");
    // Any text is a valid query, FTS syntax included.
    assert_eq!(json(&["notes", "search", "\"unbalanced AND ("]).as_array().unwrap().len(), 0);
    let markdown = json(&["notes", "export", "web-basics"]);
    assert!(
        markdown["markdown"].as_str().unwrap().contains("> The host is looked up with DNS"),
        "{markdown}"
    );
    let id = highlight["id"].as_str().unwrap();
    assert_eq!(json(&["notes", "delete", id])["action"], "deleted");
    assert_eq!(json(&["notes", "list", "--course", "web-basics"]).as_array().unwrap().len(), 1);
    fails_with(&run(&["notes", "delete", id]), 4, "not found");

    // quiz
    let quiz = json(&["quiz", "show", "web-basics.http-quiz"]);
    assert_eq!(quiz["mode"], "practice");
    let questions = quiz["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 5);
    let answers: Vec<String> = questions
        .iter()
        .map(|q| {
            format!("--answer={}={}", q["id"].as_str().unwrap(), q["choices"][0]["id"].as_str().unwrap())
        })
        .collect();
    let mut take = vec!["quiz", "take", "web-basics.http-quiz"];
    take.extend(answers.iter().map(String::as_str));
    let attempt = json(&take);
    assert_eq!(attempt["state"], "graded");
    assert!(attempt["score_percent"].is_u64(), "{attempt}");
    assert_eq!(attempt["answers"].as_array().unwrap().len(), 5);
    let attempts = json(&["quiz", "attempts", "web-basics.http-quiz"]);
    assert_eq!(attempts[0]["id"], attempt["id"]);
    let graded = json(&["quiz", "take", "web-basics.final-quiz", "--answer", "f1=a"]);
    assert_eq!(graded["state"], "submitted_pending");
    fails_with(&run(&["quiz", "take", "web-basics.http-quiz", "--answer", "q1=zz"]), 3, "invalid input");

    // study and progress
    let studied = json(&["study", "web-basics"]);
    assert!(studied["ticks"].as_u64().unwrap() > 0);
    let progress = json(&["progress", "web-basics"]);
    assert_eq!(progress["course"]["total_lessons"], 10);
    assert!(progress["course"]["completed_lessons"].as_u64().unwrap() >= 3, "{progress}");
    assert!(progress["summary"]["total_ms"].as_i64().unwrap() > 0, "{progress}");
    let lesson = json(&["progress", "--lesson", "web-basics.what-happens"]);
    assert_eq!(lesson["lesson"]["completed"], true, "{lesson}");

    // sync and status, against the reference sync server
    let status = json(&["status"]);
    let pending = status["pending_changes"].as_u64().unwrap();
    assert!(pending > 0, "{status}");
    assert_eq!(status["sync"]["last_synced_at_ms"], serde_json::Value::Null);
    let sync_server = SyncServer::create(&dir.path().join("sync")).unwrap();
    let token = sync_server.token("cli-learner", 3600).unwrap();
    let url = sync_server.base_url();
    let env = [("SATCHEL_SYNC_URL", url.as_str()), ("SATCHEL_SYNC_TOKEN", token.as_str())];
    let report = json_in(&account, &["sync"], &env);
    assert_eq!(report["outcome"], "finished", "{report}");
    assert_eq!(report["pushed"].as_u64().unwrap(), pending, "{report}");
    assert_eq!(report["remaining"], 0);
    let status = json(&["status"]);
    assert_eq!(status["pending_changes"], 0, "{status}");
    assert!(status["sync"]["last_synced_at_ms"].as_i64().unwrap() > 0, "{status}");
    assert_eq!(status["rejected"], serde_json::json!([]));
    // The token is not on the command line: `--token` works too, and an expired one fails as
    // network, saying to sign in again (the CLI has no refresh).
    let expired = sync_server.token("cli-learner", 0).unwrap();
    let run_bad = run_in(&account, &["sync", "--server", &url, "--token", &expired], none);
    fails_with(&run_bad, 7, "sign in again");

    // evict: the downloaded course's content goes, the account stays
    let evicted = json(&["evict", "--course", "web-basics"]);
    assert!(evicted["bytes_freed"].as_u64().unwrap() > 0, "{evicted}");
    assert_eq!(json(&["usage"])["storage"]["content_bytes"], 0);
    assert_eq!(json(&["evict", "--bytes", "1000"])["courses"], serde_json::json!([]));

    // text output of every listing is there too
    for args in [
        &["courses"][..],
        &["outline", "web-basics"],
        &["progress", "web-basics"],
        &["notes", "list", "--course", "web-basics"],
        &["quiz", "attempts", "web-basics.http-quiz"],
        &["settings"],
        &["usage"],
        &["status"],
    ] {
        let out = run(args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(!out.stdout.trim().is_empty(), "{args:?} printed nothing");
        assert!(serde_json::from_str::<serde_json::Value>(&out.stdout).is_err(), "{args:?} is text");
    }
}

#[test]
fn bad_arguments_and_failures_give_one_line_and_the_documented_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acct");
    let none: &[(&str, &str)] = &[];
    let run = |args: &[&str]| run_in(&account, args, none);
    let manifest = sample_manifest_path();
    assert_eq!(run(&["import", manifest.to_str().unwrap()]).code, 0);

    // 2: usage
    fails_with(&run(&["bogus"]), 2, "unrecognized subcommand");
    fails_with(&run(&["courses", "--frobnicate"]), 2, "--frobnicate");
    fails_with(&run(&["pause", "abc"]), 2, "invalid value 'abc'");
    fails_with(&run(&["download", "--lesson", "a", "--course", "b"]), 2, "cannot be used with");
    fails_with(&run(&["download"]), 2, "required");
    fails_with(&run(&["download", "--lesson", "a", "--rendition", "huge"]), 2, "not full, lite or text");
    fails_with(&run(&["notes", "add", "--lesson", "x", "--at", "95-80"]), 2, "start before end");
    fails_with(
        &run(&["notes", "add", "--lesson", "x", "--at", "5", "--quote", "q"]),
        2,
        "cannot be used with",
    );
    fails_with(&run(&["settings", "--budget", "lots"]), 2, "not a byte count or none");
    fails_with(&run(&["settings", "--wifi-only", "maybe"]), 2, "invalid value 'maybe'");
    fails_with(&run(&["quiz", "take", "web-basics.http-quiz", "--answer", "q1"]), 2, "QUESTION=CHOICE");
    fails_with(&run(&["sync", "--token", "t"]), 2, "--server");
    fails_with(&run(&["evict"]), 2, "required");
    // 3: invalid input
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"format\": 1, \"id\": \"c\"").unwrap();
    fails_with(&run(&["import", bad.to_str().unwrap()]), 3, "invalid input");
    fails_with(&run(&["settings", "--max-concurrent", "0"]), 2, "0");
    // 4: not found
    fails_with(&run(&["outline", "nope"]), 4, "not found");
    fails_with(&run(&["progress", "--lesson", "nope"]), 4, "not found");
    fails_with(&run(&["quiz", "show", "web-basics.nope"]), 4, "not found");
    fails_with(&run(&["quiz", "show", "web-basics.what-happens"]), 3, "not a quiz");
    // 1: a local file that is not there
    fails_with(&run(&["import", dir.path().join("missing.json").to_str().unwrap()]), 1, "cannot read");
    // 7: network (nothing listens on port 9 of loopback)
    let key = satchel_tests::sample::test_public_key();
    fails_with(&run(&["fetch", "--publisher-key", &key, "http://127.0.0.1:9/", "web-basics"]), 7, "network");
    // 3: a publisher key that is not one
    fails_with(
        &run(&["fetch", "--publisher-key", "AAAA", "http://127.0.0.1:9/", "web-basics"]),
        3,
        "publisher key",
    );
    fails_with(
        &run(&["sync", "--server", "http://127.0.0.1:9/", "--token", "t", "--max-seconds", "2"]),
        7,
        "sync",
    );
    // A plain-HTTP sync server off loopback is refused before anything is sent.
    let remote = run(&["sync", "--server", "http://example.com/", "--token", "t"]);
    assert_ne!(remote.code, 0);
    assert_eq!(remote.stderr.lines().count(), 1, "{}", remote.stderr);
    // 6: integrity — a manifest changed after it was signed
    let tampered = dir.path().join("tampered");
    let hash = "ab".repeat(32);
    satchel_tests::sample::publish_one_lesson_course(&tampered, "tampered", "tampered.talk", &hash, 10)
        .unwrap();
    let signed = tampered.join("courses/tampered/manifest.signed.json");
    let envelope = std::fs::read_to_string(&signed).unwrap();
    std::fs::write(&signed, envelope.replace("One lecture", "One lecturf")).unwrap();
    let host = satchel_tests::ServerProcess::serve(&tampered).unwrap();
    fails_with(&run(&["fetch", "--publisher-key", &key, &host.base_url(), "tampered"]), 6, "signature");
    // None of it changed the account.
    let courses = json_in(&account, &["courses"], none);
    assert_eq!(courses.as_array().unwrap().len(), 1);

    // 8: storage — a damaged store (the change clock's stamp unreadable) refuses new changes
    // rather than stamping them below ones already made; nothing is written.
    let db = rusqlite::Connection::open(account.join("satchel.db")).unwrap();
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hlc', 'not a stamp')", []).unwrap();
    drop(db);
    let add = ["notes", "add", "--lesson", "web-basics.what-happens", "--at", "5", "--body", "lost?"];
    fails_with(&run(&add), 8, "unreadable");
    let notes = json_in(&account, &["notes", "list", "--course", "web-basics"], none);
    assert_eq!(notes, serde_json::json!([]), "nothing half-written");

    // 5: a file that is not a Satchel database, left as it was
    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("satchel.db"), b"not a database at all, but someone's file").unwrap();
    fails_with(&run_in(&foreign, &["courses"], none), 5, "incompatible store");
    assert_eq!(
        std::fs::read(foreign.join("satchel.db")).unwrap(),
        b"not a database at all, but someone's file"
    );

    // Help and version succeed on stdout.
    let help = run(&["notes", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("search"), "{}", help.stdout);
    assert_eq!(run(&["--version"]).code, 0);
}

#[test]
fn without_account_the_account_lives_under_the_platform_data_dir() {
    let home = tempfile::tempdir().unwrap();
    let manifest = sample_manifest_path();
    let out = Command::new(workspace_bin("satchel").unwrap())
        .args(["import", manifest.to_str().unwrap()])
        .env("HOME", home.path())
        .env_remove("XDG_DATA_HOME")
        .env_remove("SATCHEL_ACCOUNT")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(home.path().join(".local/share/satchel/account/satchel.db").is_file());
    // SATCHEL_ACCOUNT names it too.
    let elsewhere = home.path().join("elsewhere");
    let out = Command::new(workspace_bin("satchel").unwrap())
        .args(["courses", "--json"])
        .env("SATCHEL_ACCOUNT", &elsewhere)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(), serde_json::json!([]));
    assert!(elsewhere.join("satchel.db").is_file());
}
