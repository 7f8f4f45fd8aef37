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
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return exit::usage(error),
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => exit::failure(&error),
    }
}
