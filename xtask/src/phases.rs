//! How long each phase of `cargo xtask test` took, so the suite's 20-minute budget on 2 cores
//! can be watched as suites grow: each finished phase prints its time, and the command ends with
//! a table of them all (after the last runner's closing line, on success and on failure).

use std::time::{Duration, Instant};

pub struct Phases {
    started: Instant,
    phase_started: Instant,
    done: Vec<Phase>,
}

struct Phase {
    name: &'static str,
    took: Duration,
    /// Set for work that ran beside the other phases (it is not part of the total).
    note: Option<String>,
}

impl Phases {
    pub fn start() -> Phases {
        let now = Instant::now();
        Phases { started: now, phase_started: now, done: Vec::new() }
    }

    /// Ends the current phase under `name` and starts the next one.
    pub fn done(&mut self, name: &'static str) {
        let took = self.phase_started.elapsed();
        eprintln!("xtask: {name} took {:.0} s", took.as_secs_f64());
        self.done.push(Phase { name, took, note: None });
        self.phase_started = Instant::now();
    }

    /// Records work that ran in the background, beside the phases.
    pub fn beside(&mut self, name: &'static str, took: Duration, note: String) {
        self.done.push(Phase { name, took, note: Some(note) });
    }

    /// The table: one line a phase, then the total wall time.
    pub fn table(&self) -> String {
        let width = self.done.iter().map(|p| p.name.len()).max().unwrap_or(0).max("total".len());
        let mut out = String::from("xtask: wall time per phase\n");
        for phase in &self.done {
            let note = phase.note.as_deref().map(|n| format!("  ({n})")).unwrap_or_default();
            out.push_str(&format!("  {:<width$}  {:>5.0} s{note}\n", phase.name, phase.took.as_secs_f64()));
        }
        out.push_str(&format!("  {:<width$}  {:>5.0} s\n", "total", self.started.elapsed().as_secs_f64()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_each_phase_then_the_total() {
        let mut phases = Phases::start();
        phases.done("fmt and clippy");
        phases.beside("Swift chroot", Duration::from_secs(92), "in the background".into());
        let table = phases.table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[1].trim_start().starts_with("fmt and clippy"), "{table}");
        assert!(lines[2].contains("92 s  (in the background)"), "{table}");
        assert!(lines[3].trim_start().starts_with("total"), "{table}");
    }
}
