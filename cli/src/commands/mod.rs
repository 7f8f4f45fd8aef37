//! One file per command group; `run` sends each subcommand to its group.

mod catalog;
pub mod downloads;
mod learning;
mod notes;
mod share;
mod storage;
pub mod sync;

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use satchel_core::Satchel;
use serde_json::Value;

use crate::account;
use crate::cli::{AccountCommand, Cli, Command};

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
    let command = match cli.command {
        Command::Demo { require_media } => return crate::demo::run(cli.account, require_media),
        Command::Account(command) => command,
    };
    let dir = account::resolve(cli.account.as_deref())?;
    // `fetch` opens the account trusting the publisher keys it was given.
    let keys = match &command {
        AccountCommand::Fetch { publisher_keys, .. } | AccountCommand::ImportFile { publisher_keys, .. } => {
            publisher_keys.clone()
        }
        _ => Vec::new(),
    };
    with_account(&dir, keys, |s| dispatch(s, out, command))
}

fn dispatch(satchel: &Arc<Satchel>, out: Out, command: AccountCommand) -> Result<()> {
    use AccountCommand as C;
    match command {
        C::Import { manifest } => catalog::import(satchel, out, &manifest),
        C::Fetch { base_url, course_id, .. } => catalog::fetch(satchel, out, base_url, course_id),
        C::Export { course_id, rendition, path } => share::export(satchel, out, course_id, rendition, &path),
        C::ImportFile { path, .. } => share::import(satchel, out, &path),
        C::Courses => catalog::courses(satchel, out),
        C::Outline { course_id } => catalog::outline(satchel, out, course_id),
        C::Download(args) => downloads::download(satchel, out, args),
        C::Downloads { course } => downloads::list(satchel, out, course),
        C::Pause { download_id } => downloads::pause(satchel, out, download_id),
        C::Resume { download_id } => downloads::resume(satchel, out, download_id),
        C::Cancel { download_id } => downloads::cancel(satchel, out, download_id),
        C::Progress(args) => learning::progress(satchel, out, args),
        C::Quiz(command) => learning::quiz(satchel, out, command),
        C::Study { course_id, rounds } => learning::study(satchel, out, &course_id, rounds),
        C::Notes(command) => notes::run(satchel, out, command),
        C::Settings(args) => storage::settings(satchel, out, args),
        C::Usage => storage::usage(satchel, out),
        C::Evict(args) => storage::evict(satchel, out, args),
        C::Sync(args) => sync::sync(satchel, out, args),
        C::Status => sync::status(satchel, out),
    }
}

/// Opens the account, runs `f`, and closes the account cleanly whatever `f` returned (its error
/// wins over a close error).
fn with_account(dir: &Path, keys: Vec<String>, f: impl FnOnce(&Arc<Satchel>) -> Result<()>) -> Result<()> {
    let satchel = account::open(dir, keys)?;
    let result = f(&satchel);
    let closed = satchel.shutdown_blocking();
    result?;
    Ok(closed?)
}
