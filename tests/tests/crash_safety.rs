//! Kill -9 a real learner process at random moments: every change that landed has its outbox
//! entry, nothing lands without one, nothing is duplicated, and the database stays intact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::HashMap;
use std::process::{Command, Stdio};

use satchel_core::outbox;
use satchel_core::store::Store;
use satchel_tests::{kill_delays, sample_manifest_path, workspace_bin};

const KILLS: usize = 25;

#[test]
fn killing_the_learner_process_never_separates_a_change_from_its_outbox_entry() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acct");
    let satchel = workspace_bin("satchel").unwrap();
    let status = Command::new(&satchel)
        .args(["import", "--account"])
        .arg(&account)
        .arg(sample_manifest_path())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());

    let mut last_outbox_len = 0;
    for (trial, delay) in kill_delays(0x05a7_c4e1, 30, 250).take(KILLS).enumerate() {
        let mut child = Command::new(&satchel)
            .args(["study", "--rounds", "0", "--account"])
            .arg(&account)
            .arg("web-basics")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let store = Store::open(account.join("satchel.db")).unwrap();
        let check: String =
            store.read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)).unwrap();
        assert_eq!(check, "ok", "trial {trial}");

        let pending = store.read(outbox::pending).unwrap();
        let mut latest: HashMap<(String, String), serde_json::Value> = HashMap::new();
        let mut unsent: HashMap<(String, String), usize> = HashMap::new();
        for entry in &pending {
            let key = (entry.entity_kind.clone(), entry.entity_id.clone());
            latest.insert(key.clone(), serde_json::from_str(&entry.change).unwrap());
            if entry.device_seq.is_none() {
                *unsent.entry(key).or_default() += 1;
            }
        }
        assert!(unsent.values().all(|n| *n == 1), "trial {trial}: one pending entry per entity");

        let progress: Vec<(String, i64, i64)> = store
            .read(|c| {
                let mut stmt = c.prepare("SELECT lesson_id, position_ms, time_spent_ms FROM progress")?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .unwrap();
        for (lesson, position, spent) in &progress {
            let change =
                latest.get(&("progress".into(), lesson.clone())).expect("progress row without outbox entry");
            // The entry is the lesson's sync record: the row is what it materialises to.
            assert_eq!(change["position_ms"]["value"], *position, "trial {trial}: {lesson}");
            let time: i64 =
                change["time_by_device"].as_object().unwrap().values().map(|v| v.as_i64().unwrap()).sum();
            assert_eq!(time, *spent, "trial {trial}: {lesson}");
        }
        let notes: Vec<(String, String)> = store
            .read(|c| {
                let mut stmt = c.prepare("SELECT id, body FROM note")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
                Ok(rows)
            })
            .unwrap();
        for (id, body) in &notes {
            let change = latest.get(&("note".into(), id.clone())).expect("note without outbox entry");
            // The shown text is the body version with the largest stamp.
            let heads = change["body"]["heads"].as_object().unwrap();
            let shown = heads.keys().max().map(|k| &heads[k]["text"]).unwrap();
            assert_eq!(shown, body, "trial {trial}");
        }
        // Every outbox entry describes something that exists: no entry outlived a rolled-back change.
        let notes_by_id: HashMap<&String, &String> = notes.iter().map(|(id, body)| (id, body)).collect();
        for (kind, id) in latest.keys() {
            match kind.as_str() {
                "note" => assert!(notes_by_id.contains_key(id), "trial {trial}: outbox note {id} has no row"),
                "progress" => assert!(
                    progress.iter().any(|p| &p.0 == id),
                    "trial {trial}: outbox progress {id} has no row"
                ),
                _ => {}
            }
        }
        assert!(pending.len() >= last_outbox_len, "trial {trial}: the outbox never loses entries");
        last_outbox_len = pending.len();
        store.close().unwrap();
    }
    assert!(last_outbox_len > 0, "the learner process made changes before being killed");
}
