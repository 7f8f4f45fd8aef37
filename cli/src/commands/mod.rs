//! One file per command group; `run` sends each subcommand to its group.

mod catalog;
pub mod downloads;
mod learning;
mod notes;
mod storage;
pub mod sync;

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use satchel_core::Satchel;
use serde_json::Value;

use crate::account;
use crate::cli::{Cli, Command};

/// How a command prints what it shows: text for people, or one JSON document with `--json`.
#[derive(Clone, Copy)]
pub struct Out {
    pub json: bool,
}

impl Out {
    /// Prints `value` as JSON, or `text()` (already made terminal-safe) otherwise.
    pub fn show(self, value: impl FnOnce() -> Value, text: impl FnOnce() -> String) {
        if self.json {
            println!("{}", crate::json::to_terminal(&value()));
        } else {
            print!("{}", text());
        }
    }
}

pub fn run(cli: Cli) -> Result<()> {
    let out = Out { json: cli.json };
    if let Command::Demo { require_media } = cli.command {
        return crate::demo::run(cli.account, require_media);
    }
    let dir = account::resolve(cli.account.as_deref())?;
    match cli.command {
        Command::Demo { .. } => Ok(()),
        Command::Fetch { publisher_keys, base_url, course_id } => {
            with_account(&dir, publisher_keys, |s| catalog::fetch(s, out, base_url, course_id))
        }
        command => with_account(&dir, Vec::new(), |s| dispatch(s, out, command)),
    }
}

fn dispatch(satchel: &Arc<Satchel>, out: Out, command: Command) -> Result<()> {
    match command {
        Command::Demo { .. } | Command::Fetch { .. } => Ok(()),
        Command::Import { manifest } => catalog::import(satchel, out, &manifest),
        Command::Courses => catalog::courses(satchel, out),
        Command::Outline { course_id } => catalog::outline(satchel, out, course_id),
        Command::Download(args) => downloads::download(satchel, out, args),
        Command::Downloads { course } => downloads::list(satchel, out, course),
        Command::Pause { download_id } => downloads::pause(satchel, download_id),
        Command::Resume { download_id } => downloads::resume(satchel, download_id),
        Command::Cancel { download_id } => downloads::cancel(satchel, download_id),
        Command::Progress(args) => learning::progress(satchel, out, args),
        Command::Quiz(command) => learning::quiz(satchel, out, command),
        Command::Study { course_id, rounds } => learning::study(satchel, out, &course_id, rounds),
        Command::Notes(command) => notes::run(satchel, out, command),
        Command::Settings(args) => storage::settings(satchel, out, args),
        Command::Usage => storage::usage(satchel, out),
        Command::Evict(args) => storage::evict(satchel, out, args),
        Command::Sync(args) => sync::sync(satchel, out, args),
        Command::Status => sync::status(satchel, out),
    }
}

/// Opens the account, runs `f`, and closes the account cleanly whatever `f` returned (its error
/// wins over a close error).
fn with_account(dir: &Path, keys: Vec<String>, f: impl FnOnce(&Arc<Satchel>) -> Result<()>) -> Result<()> {
    let satchel = account::open(dir, keys)?;
    let result = f(&satchel);
    let closed = satchel.shutdown();
    result?;
    Ok(closed?)
}
