//! `catalog_outline_ms`: reading a 500-lesson course outline through the core beside the same rows
//! read with one raw rusqlite query.

use anyhow::Result;
use rusqlite::Connection;
use satchel_core::catalog;
use satchel_core::store::Store;
use serde_json::json;

use super::report::Row;
use super::{median_time, ms};

const MODULES: usize = 20;
const LESSONS_PER_MODULE: usize = 25;
const RUNS: usize = 200;

/// The columns the raw peer reads: the same ones the core turns into `Lesson` records.
type RawRow = (String, String, String, String, String, Option<i64>, Option<String>, Option<i64>);

/// A large synthetic course: the size of a long professional certificate.
fn big_manifest() -> String {
    let modules: Vec<_> = (0..MODULES)
        .map(|m| {
            let lessons: Vec<_> = (0..LESSONS_PER_MODULE)
                .map(|l| {
                    json!({
                        "id": format!("big.m{m}.l{l}"), "title": format!("Lesson {l} of module {m}"),
                        "kind": "video", "duration_ms": 300_000 + l * 1000,
                        "renditions": [
                            { "kind": "full", "bytes": 40_000_000 }, { "kind": "lite", "bytes": 1_100_000 },
                            { "kind": "text", "bytes": 5_000 }
                        ]
                    })
                })
                .collect();
            json!({ "id": format!("big.m{m}"), "title": format!("Module {m}"), "lessons": lessons })
        })
        .collect();
    json!({ "format": 1, "id": "big", "version": 1, "title": "Big course", "modules": modules }).to_string()
}

pub fn outline() -> Result<Row> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let store = Store::open(&path)?;
    catalog::import_manifest(&store, &big_manifest())?;

    let ours = median_time(10, RUNS, || {
        let outline = store.read(|c| catalog::course_outline(c, "big"))?;
        assert_eq!(outline.modules.len(), MODULES);
        Ok(())
    })?;

    let raw_conn = Connection::open(&path)?;
    let raw = median_time(10, RUNS, || {
        let mut stmt = raw_conn.prepare_cached(
            "SELECT l.id, l.course_id, l.module_id, l.title, l.kind, l.duration_ms, r.kind, r.bytes
                 FROM lesson l JOIN module m ON m.id = l.module_id
                 LEFT JOIN rendition r ON r.lesson_id = l.id
                 WHERE l.course_id = 'big' ORDER BY m.position, l.position, r.kind",
        )?;
        let rows: Vec<RawRow> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
            })?
            .collect::<Result<_, _>>()?;
        assert_eq!(rows.len(), MODULES * LESSONS_PER_MODULE * 3);
        Ok(())
    })?;
    Ok(Row::at_most("catalog_outline_ms", ms(ours), "ms", "raw rusqlite: one query, same rows", ms(raw), 2.0))
}
