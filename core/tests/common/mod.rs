//! Helpers shared by the core's integration tests.
#![allow(dead_code)]

use rusqlite::Connection;

/// The sample course the CLI demo uses.
pub const SAMPLE_MANIFEST: &str = include_str!("../../../cli/sample/course-manifest.json");

/// Every row of every table, as text, for "nothing changed" assertions.
pub fn dump(conn: &Connection) -> Vec<String> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1, 2")).unwrap();
        let columns = stmt.column_count();
        let rows = stmt
            .query_map([], |row| {
                let values = (0..columns)
                    .map(|i| row.get_ref(i).map(|v| format!("{v:?}")))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(format!("{table}: {}", values.join(" | ")))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        out.extend(rows);
    }
    out
}

/// The schema as a comparable description: columns, indexes and their columns, per table.
pub fn schema(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    let objects: Vec<(String, String)> = conn
        .prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (kind, name) in objects {
        match kind.as_str() {
            "table" => {
                let mut stmt = conn.prepare(&format!("PRAGMA table_xinfo(\"{name}\")")).unwrap();
                let columns = stmt
                    .query_map([], |row| {
                        Ok(format!(
                            "table {name} column {}: {} notnull={} default={:?} pk={}",
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, i64>(3)?,
                            row.get::<_, Option<String>>(4)?,
                            row.get::<_, i64>(5)?
                        ))
                    })
                    .unwrap()
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                out.extend(columns);
            }
            "index" => {
                let mut stmt = conn.prepare(&format!("PRAGMA index_info(\"{name}\")")).unwrap();
                let columns: Vec<String> = stmt
                    .query_map([], |row| row.get::<_, String>(2))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                out.push(format!("index {name} on ({})", columns.join(", ")));
            }
            other => {
                let sql: String = conn
                    .query_row("SELECT sql FROM sqlite_master WHERE name = ?1", [&name], |row| row.get(0))
                    .unwrap();
                out.push(format!("{other} {name}: {}", sql.split_whitespace().collect::<Vec<_>>().join(" ")));
            }
        }
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
    let app_id: i64 = conn.query_row("PRAGMA application_id", [], |row| row.get(0)).unwrap();
    out.push(format!("user_version={version} application_id={app_id}"));
    out
}
