//! The bench table on stdout and `target/bench/results.json`.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

/// One measured figure beside its peer.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    pub value: f64,
    pub unit: String,
    /// What it was measured beside, in the same run.
    pub peer: String,
    pub peer_value: f64,
    /// `value / peer_value`.
    pub ratio: f64,
    /// The target, as a condition on the ratio (e.g. "<= 2.0").
    pub goal: String,
    /// Whether the ratio meets the goal.
    pub met: bool,
}

impl Row {
    /// A row whose goal is `ratio <= max_ratio`.
    pub fn at_most(name: &str, value: f64, unit: &str, peer: &str, peer_value: f64, max_ratio: f64) -> Row {
        let ratio = if peer_value > 0.0 { value / peer_value } else { f64::INFINITY };
        Row {
            name: name.into(),
            value,
            unit: unit.into(),
            peer: peer.into(),
            peer_value,
            ratio,
            goal: format!("<= {max_ratio}"),
            met: ratio <= max_ratio,
        }
    }
}

pub fn print(rows: &[Row]) {
    println!(
        "{:<28} {:>12} {:<5} {:<40} {:>12} {:>8} {:>8} {:>4}",
        "name", "value", "unit", "peer", "peer value", "ratio", "goal", "met"
    );
    for r in rows {
        println!(
            "{:<28} {:>12.4} {:<5} {:<40} {:>12.4} {:>8.3} {:>8} {:>4}",
            r.name,
            r.value,
            r.unit,
            r.peer,
            r.peer_value,
            r.ratio,
            r.goal,
            if r.met { "yes" } else { "NO" }
        );
    }
}

pub fn write_json(rows: &[Row], path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(rows)?)?;
    Ok(())
}
