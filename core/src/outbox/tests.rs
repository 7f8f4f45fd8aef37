//! The outbox on a real SQLite file: stamps that only go up and survive a reopen, one unfrozen
//! entry per entity keeping the most urgent priority, freezing in priority order with gap-free
//! numbers, and removal, attempts and counts.

use super::*;
use crate::store::Store;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    (dir, store)
}

fn put(store: &Store, entity: &str, change: &str, priority: Priority) {
    store
        .write(|tx| {
            let stamp = stamp(tx, "phone")?;
            enqueue(tx, "note", entity, change, &stamp, priority)
        })
        .unwrap();
}

fn priorities(store: &Store) -> Vec<(String, i64)> {
    store
        .read(|c| {
            let mut stmt = c.prepare("SELECT entity_id, priority FROM outbox ORDER BY seq")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .unwrap()
}

#[test]
fn stamps_increase_are_kept_and_a_damaged_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.read(last_stamp).unwrap(), None);
    let first = store.write(|tx| stamp(tx, "phone")).unwrap();
    let second = store.write(|tx| stamp(tx, "phone")).unwrap();
    assert!(second > first);
    assert_eq!(second.device, "phone");
    assert_eq!(store.read(last_stamp).unwrap(), Some(second.clone()));
    drop(store);
    let store = Store::open(&path).unwrap();
    assert!(store.write(|tx| stamp(tx, "phone")).unwrap() > second, "the clock survives a reopen");

    // A stamp received from far in the future moves the clock past it.
    let future = Hlc { wall_ms: now_ms() + 86_400_000, counter: 7, device: "tablet".into() };
    store.write(|tx| set_last_stamp(tx, &future)).unwrap();
    assert!(store.write(|tx| stamp(tx, "phone")).unwrap() > future);

    store.write(|tx| meta::put(tx, HLC_KEY, "not a stamp")).unwrap();
    assert!(matches!(store.read(last_stamp), Err(Error::Corrupt { .. })));
    assert!(store.write(|tx| stamp(tx, "phone")).is_err());
}

#[test]
fn an_unfrozen_entry_is_replaced_keeping_the_more_urgent_priority() {
    let (_d, store) = store();
    put(&store, "a", "v1", Priority::Bulk);
    put(&store, "a", "v2", Priority::Urgent);
    put(&store, "a", "v3", Priority::Normal);
    put(&store, "b", "w1", Priority::Normal);
    let entries = store.read(pending).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0].entity_id.as_str(), entries[0].change.as_str()), ("a", "v3"));
    assert_eq!(priorities(&store), [("a".into(), 0), ("b".into(), 1)]);
    assert_ne!(entries[0].op_id, entries[1].op_id);
    assert!(store.read(|c| has_pending(c, "note", "a")).unwrap());
    assert!(!store.read(|c| has_pending(c, "note", "c")).unwrap());
    assert!(!store.read(|c| has_pending(c, "progress", "a")).unwrap(), "the kind is part of the key");

    // Once frozen, an entry is what was sent: a new change gets an entry of its own.
    store.write(|tx| freeze(tx, 0, 10, Priority::Bulk)).unwrap();
    put(&store, "a", "v4", Priority::Bulk);
    let entries = store.read(pending).unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!((entries[2].change.as_str(), entries[2].device_seq), ("v4", None));
    assert_eq!(store.read(counts).unwrap(), (3, 1));
    assert_eq!(store.read(pending_count).unwrap(), 3);
}

#[test]
fn freezing_numbers_the_most_urgent_first_up_to_the_limit_and_priority() {
    let (_d, store) = store();
    put(&store, "bulk1", "x", Priority::Bulk);
    put(&store, "normal1", "x", Priority::Normal);
    put(&store, "urgent1", "x", Priority::Urgent);
    put(&store, "normal2", "x", Priority::Normal);
    put(&store, "bulk2", "x", Priority::Bulk);

    // Nothing to freeze below the priority asked: the number given back is unchanged.
    assert_eq!(store.write(|tx| freeze(tx, 7, 0, Priority::Bulk)).unwrap(), 7);
    assert_eq!(store.write(|tx| freeze(tx, 7, 2, Priority::Normal)).unwrap(), 9);
    let frozen_ids = |s: &Store| {
        s.read(|c| frozen(c, 100))
            .unwrap()
            .into_iter()
            .map(|e| (e.entity_id, e.device_seq))
            .collect::<Vec<_>>()
    };
    assert_eq!(frozen_ids(&store), [("urgent1".into(), Some(8)), ("normal1".into(), Some(9))]);
    assert_eq!(store.write(|tx| freeze(tx, 9, 10, Priority::Normal)).unwrap(), 10);
    assert_eq!(store.write(|tx| freeze(tx, 10, 10, Priority::Normal)).unwrap(), 10, "no bulk on metered");
    assert_eq!(store.write(|tx| freeze(tx, 10, 10, Priority::Bulk)).unwrap(), 12);
    let order: Vec<_> = frozen_ids(&store).into_iter().map(|(id, _)| id).collect();
    assert_eq!(order, ["urgent1", "normal1", "normal2", "bulk1", "bulk2"]);
    assert_eq!(store.read(|c| frozen(c, 2)).unwrap().len(), 2);
    assert_eq!(store.read(counts).unwrap(), (5, 0));
}

#[test]
fn attempts_count_against_frozen_entries_up_to_the_number_given_and_removal_is_by_number() {
    let (_d, store) = store();
    for id in ["a", "b", "c"] {
        put(&store, id, "x", Priority::Normal);
    }
    store.write(|tx| freeze(tx, 0, 2, Priority::Normal)).unwrap();
    store.write(|tx| note_attempt(tx, 1, Some("timeout"))).unwrap();
    store.write(|tx| note_attempt(tx, 2, None)).unwrap();
    let attempts: Vec<(String, u32)> =
        store.read(pending).unwrap().into_iter().map(|e| (e.entity_id, e.attempts)).collect();
    assert_eq!(attempts, [("a".into(), 2), ("b".into(), 1), ("c".into(), 0)]);
    let error: Option<String> = store
        .read(|c| Ok(c.query_row("SELECT last_error FROM outbox WHERE entity_id = 'b'", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(error, None);

    store.write(|tx| remove_frozen(tx, 1)).unwrap();
    let left: Vec<String> = store.read(pending).unwrap().into_iter().map(|e| e.entity_id).collect();
    assert_eq!(left, ["b", "c"]);
    assert_eq!(store.read(counts).unwrap(), (2, 1));
}
