//! Downloads over a real shaped link: a network namespace joined by a veth pair, the server's
//! side rate-limited with `tc tbf` and the client's side dropping packets at random with
//! `iptables -m statistic`. The kernel's TCP, not a proxy, has to cope.
//!
//! Needs root (the tests run as root) and iproute2 + iptables (cargo xtask test installs them).
//! Where the kernel itself lacks a feature, the test prints which and returns.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use satchel_core::content::store::sha256_hex;
use satchel_tests::sample::{packed_sample, test_public_key};
use satchel_tests::workspace_bin;

/// Rate of the server → phone direction.
const RATE_BYTES_PER_SECOND: u64 = 500_000;

fn sh(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0]).args(&args[1..]).output().map_err(|e| format!("{}: {e}", args[0]))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// The namespace and veth pair, removed when dropped.
struct Link {
    ns: String,
    host_if: String,
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = sh(&["ip", "link", "del", &self.host_if]);
        let _ = sh(&["ip", "netns", "del", &self.ns]);
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_course_downloads_byte_exact_over_a_slow_lossy_link() {
    for tool in ["ip", "tc", "iptables"] {
        assert!(
            Command::new(tool).arg("-V").output().is_ok()
                || Command::new(tool).arg("--version").output().is_ok(),
            "{tool} is missing: cargo xtask test installs iproute2 and iptables"
        );
    }
    let id = std::process::id() % 200 + 20;
    let link = Link { ns: format!("satchel{id}"), host_if: format!("sh{id}") };
    let client_if = format!("sc{id}");
    let host_ip = format!("10.231.{id}.1");
    let client_ip = format!("10.231.{id}.2");
    if let Err(reason) = sh(&["ip", "netns", "add", &link.ns]) {
        println!("SKIPPED: this kernel cannot make network namespaces: {reason}");
        return;
    }
    let setup = [
        vec!["ip", "link", "add", &link.host_if, "type", "veth", "peer", "name", &client_if],
        vec!["ip", "link", "set", &client_if, "netns", &link.ns],
        vec!["ip", "addr", "add", &format!("{host_ip}/24"), "dev", &link.host_if],
        vec!["ip", "link", "set", &link.host_if, "up"],
        vec![
            "ip",
            "netns",
            "exec",
            &link.ns,
            "ip",
            "addr",
            "add",
            &format!("{client_ip}/24"),
            "dev",
            &client_if,
        ],
        vec!["ip", "netns", "exec", &link.ns, "ip", "link", "set", &client_if, "up"],
        vec!["ip", "netns", "exec", &link.ns, "ip", "link", "set", "lo", "up"],
    ]
    .map(|args| args.into_iter().map(str::to_owned).collect::<Vec<_>>());
    for args in &setup {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sh(&args).unwrap();
    }
    let rate = format!("{}kbit", RATE_BYTES_PER_SECOND * 8 / 1000);
    if let Err(reason) = sh(&[
        "tc",
        "qdisc",
        "add",
        "dev",
        &link.host_if,
        "root",
        "tbf",
        "rate",
        &rate,
        "burst",
        "16kb",
        "latency",
        "200ms",
    ]) {
        println!("SKIPPED: this kernel has no tbf qdisc: {reason}");
        return;
    }
    if let Err(reason) = sh(&[
        "ip",
        "netns",
        "exec",
        &link.ns,
        "iptables",
        "-A",
        "INPUT",
        "-s",
        &host_ip,
        "-m",
        "statistic",
        "--mode",
        "random",
        "--probability",
        "0.02",
        "-j",
        "DROP",
    ]) {
        println!("SKIPPED: this kernel has no iptables statistic match: {reason}");
        return;
    }

    // The server on the host side of the link; a loopback forwarder inside the namespace, since
    // the core speaks plain HTTP to loopback only.
    let packed = packed_sample().unwrap();
    let (server, server_addr) = spawn_listening(
        Command::new(workspace_bin("satchel-server").unwrap())
            .arg("serve")
            .arg(&packed.dir)
            .args(["--listen", &format!("{host_ip}:0")]),
        "listening on http://",
    );
    let (forward, local) = spawn_listening(
        Command::new("ip")
            .args(["netns", "exec", &link.ns])
            .arg(workspace_bin("satchel-tcp-forward").unwrap())
            .arg(&server_addr),
        "listening on ",
    );
    let base_url = format!("http://{local}/");

    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acct");
    let satchel = workspace_bin("satchel").unwrap();
    let in_ns = |args: &[&str]| {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &link.ns]).arg(&satchel).args(args).arg("--account").arg(&account);
        command.stdout(Stdio::null()).stderr(Stdio::inherit());
        command
    };
    let status =
        in_ns(&["fetch", "--publisher-key", &test_public_key(), &base_url, "web-basics"]).status().unwrap();
    assert!(status.success(), "fetch over the link");
    let _running = (&server, &forward);
    let started = Instant::now();
    let status = in_ns(&["download", "--course", "web-basics", "--rendition", "lite"]).status().unwrap();
    let elapsed = started.elapsed();
    assert!(status.success(), "the course downloads over the lossy link");

    // Byte-exact, and the shaping was real: it took at least most of bytes / rate.
    let mut bytes = 0u64;
    for shard in std::fs::read_dir(account.join("content/blobs")).unwrap().flatten() {
        for file in std::fs::read_dir(shard.path()).unwrap().flatten() {
            let data = std::fs::read(file.path()).unwrap();
            assert_eq!(sha256_hex(&data), file.file_name().to_string_lossy(), "stored blobs are exact");
            bytes += data.len() as u64;
        }
    }
    let floor = bytes as f64 / RATE_BYTES_PER_SECOND as f64 * 0.5;
    assert!(elapsed.as_secs_f64() >= floor, "{bytes} bytes in {elapsed:?}: was the link shaped?");
    println!("{bytes} bytes over a {rate} link with 2% loss in {elapsed:?}");
}

/// Spawns a child that prints `<prefix>ADDR` first, and returns it with ADDR.
fn spawn_listening(command: &mut Command, prefix: &str) -> (Killed, String) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let child = Killed(child);
    let addr = line
        .trim()
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, addr)
}
