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

/// What a row must show.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// `value / peer_value <= x`
    RatioAtMost(f64),
    /// `value / peer_value >= x`
    RatioAtLeast(f64),
    /// `value / peer_value == x` (counts that must match exactly)
    RatioEquals(f64),
    /// `value <= x` in the row's unit (the peer is still measured and shown beside it).
    ValueAtMost(f64),
}

impl Row {
    pub fn new(name: &str, value: f64, unit: &str, peer: &str, peer_value: f64, goal: Goal) -> Row {
        let ratio = if peer_value > 0.0 { value / peer_value } else { f64::INFINITY };
        let (goal, met) = match goal {
            Goal::RatioAtMost(x) => (format!("ratio <= {x}"), ratio <= x),
            Goal::RatioAtLeast(x) => (format!("ratio >= {x}"), ratio >= x),
            Goal::RatioEquals(x) => (format!("ratio == {x}"), ratio == x),
            Goal::ValueAtMost(x) => (format!("<= {x} {unit}"), value <= x),
        };
        Row { name: name.into(), value, unit: unit.into(), peer: peer.into(), peer_value, ratio, goal, met }
    }

    /// A row whose goal is `ratio <= max_ratio`.
    pub fn at_most(name: &str, value: f64, unit: &str, peer: &str, peer_value: f64, max_ratio: f64) -> Row {
        Row::new(name, value, unit, peer, peer_value, Goal::RatioAtMost(max_ratio))
    }
}

pub fn print(rows: &[Row]) {
    println!(
        "{:<34} {:>12} {:<5} {:<44} {:>12} {:>8} {:>14} {:>4}",
        "name", "value", "unit", "peer", "peer value", "ratio", "goal", "met"
    );
    for r in rows {
        println!(
            "{:<34} {:>12.4} {:<5} {:<44} {:>12.4} {:>8.3} {:>14} {:>4}",
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
