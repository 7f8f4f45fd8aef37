//! `satchel`: the desktop shell over Satchel's core, for demos, scripting and tests.
//!
//! It drives the same `Satchel` object the Android and iOS apps get through UniFFI, so whatever
//! works here works there. Each subcommand maps onto one core call (or a few that show one
//! thing); the command groups live in `commands/`, one file each.

mod account;
mod cli;
mod commands;
mod demo;
mod exit;
mod format;
mod json;
mod study;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    die_quietly_on_closed_pipe();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return exit::usage(error),
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => exit::failure(&error),
    }
}

/// `satchel courses | head -1`: when the reader goes away, end as `cat` and `grep` do (killed by
/// SIGPIPE) instead of Rust's default, which ignores the signal and makes the next `println!`
/// panic.
fn die_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any other thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
