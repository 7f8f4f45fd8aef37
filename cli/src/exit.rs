//! How `satchel` fails: one line on stderr and an exit code per kind of error, so scripts can
//! tell a typo from a network outage. The codes are documented in docs/cli.md.

use std::process::ExitCode;

use satchel_core::SatchelError;

use crate::terminal::safe;

/// Exit codes, one per kind of failure.
pub mod code {
    /// Anything else: a local file that cannot be read, an account directory that cannot be made.
    pub const OTHER: u8 = 1;
    /// Bad arguments (unknown subcommand or flag, a value that does not parse).
    pub const USAGE: u8 = 2;
    /// The core refused the input (an invalid manifest, a value out of range). Nothing changed.
    pub const INVALID_INPUT: u8 = 3;
    /// No such course, lesson, note, download or quiz attempt.
    pub const NOT_FOUND: u8 = 4;
    /// The account directory holds a database this build cannot open (left untouched).
    pub const INCOMPATIBLE_STORE: u8 = 5;
    /// Downloaded content failed verification (signature, hash).
    pub const INTEGRITY: u8 = 6;
    /// The network failed or a server's reply was unusable.
    pub const NETWORK: u8 = 7;
    /// The disk or database failed (full disk, over quota, I/O).
    pub const STORAGE: u8 = 8;
    /// A bug in the core (or the instance was closed under us).
    pub const INTERNAL: u8 = 9;
    /// The work was not finished: downloads or a sync blocked, failed or out of time. Running
    /// the same command again resumes it.
    pub const UNFINISHED: u8 = 10;
}

/// A failure the CLI itself detects, with the exit code it means.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Work that stopped before it was done (resumable).
pub fn unfinished(message: impl Into<String>) -> anyhow::Error {
    CliError { code: code::UNFINISHED, message: message.into() }.into()
}

/// The exit code for an error: the first typed error in its chain decides.
pub fn code_of(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(cli) = cause.downcast_ref::<CliError>() {
            return cli.code;
        }
        if let Some(core) = cause.downcast_ref::<SatchelError>() {
            return match core {
                SatchelError::InvalidInput { .. } => code::INVALID_INPUT,
                SatchelError::NotFound { .. } => code::NOT_FOUND,
                SatchelError::IncompatibleStore { .. } => code::INCOMPATIBLE_STORE,
                SatchelError::Integrity { .. } => code::INTEGRITY,
                SatchelError::Network { .. } => code::NETWORK,
                SatchelError::Storage { .. } => code::STORAGE,
                SatchelError::Closed | SatchelError::Internal { .. } => code::INTERNAL,
            };
        }
    }
    code::OTHER
}

/// Prints the error as one line and returns its exit code.
pub fn failure(error: &anyhow::Error) -> ExitCode {
    // Error texts can quote a manifest or a host's reply: escaped like any content, and on one
    // line (`safe` shows a newline inside a message as `\x0a`).
    eprintln!("Error: {}", safe(&format!("{error:#}")));
    ExitCode::from(code_of(error))
}

/// clap's verdict: help and version go to stdout with success; a parse error becomes one line
/// (clap's first) and the usage exit code.
pub fn usage(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            print!("{error}");
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            eprint!("{}", error.render());
            ExitCode::from(code::USAGE)
        }
        _ => {
            // clap's message runs until its usage block; some span two lines ("required
            // arguments were not provided:" and then the arguments), joined here.
            let text = error.render().to_string();
            let message: Vec<&str> = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
                .collect();
            let line = message.join(" ");
            let line = line.trim_start_matches("error: ");
            eprintln!("Error: {} (see satchel --help)", safe(line));
            ExitCode::from(code::USAGE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use satchel_core::ffi::{NetworkErrorKind, StorageErrorKind};

    #[test]
    fn the_first_typed_error_in_the_chain_decides_the_code() {
        let core: anyhow::Error = SatchelError::NotFound { reason: "lesson x".into() }.into();
        assert_eq!(code_of(&core.context("cannot show the lesson")), code::NOT_FOUND);
        assert_eq!(code_of(&unfinished("blocked")), code::UNFINISHED);
        assert_eq!(code_of(&anyhow::anyhow!("cannot read file")), code::OTHER);
    }

    #[test]
    fn each_kind_of_core_error_has_its_documented_code() {
        let reason = || "r".to_owned();
        for (error, expected) in [
            (SatchelError::InvalidInput { reason: reason() }, 3),
            (SatchelError::NotFound { reason: reason() }, 4),
            (SatchelError::IncompatibleStore { reason: reason() }, 5),
            (SatchelError::Integrity { reason: reason() }, 6),
            (
                SatchelError::Network {
                    kind: NetworkErrorKind::HttpStatus,
                    http_status: Some(503),
                    retry_after_ms: None,
                    reason: reason(),
                },
                7,
            ),
            (SatchelError::Storage { kind: StorageErrorKind::DiskFull, reason: reason() }, 8),
            (SatchelError::Internal { reason: reason() }, 9),
            (SatchelError::Closed, 9),
        ] {
            let text = error.to_string();
            assert_eq!(code_of(&anyhow::Error::from(error)), expected, "{text}");
        }
    }
}
