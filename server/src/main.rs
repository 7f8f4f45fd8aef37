//! `satchel-server`: Satchel's reference server and packager.
//!
//! `keygen` makes a publisher key, `pack` turns a course source folder into signed, content-
//! addressed content, `serve` hosts it (byte ranges, strong ETags, If-Range) as any static host
//! would, `rotate` hands published courses over from an old publisher key to a new one, and
//! `sample-course` builds the sample course's source with generated lecture videos.
//! The sync API joins it with its issue.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use satchel_server::{keys, pack, rotate, sample, serve};

#[derive(Parser)]
#[command(name = "satchel-server", version, about = "Satchel reference server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a publisher signing key. Prints the public key the apps must trust.
    Keygen {
        /// Where to write the secret key (created readable by you only).
        #[arg(long)]
        out: PathBuf,
    },
    /// Package a course source folder into blobs and a signed manifest under OUT.
    Pack {
        /// The course source folder (course.json and its files).
        src: PathBuf,
        /// The output tree to publish on any static host.
        out: PathBuf,
        /// The publisher key from `keygen`.
        #[arg(long)]
        key: PathBuf,
    },
    /// After packing OUT with a new key: sign, with the old key, a rotation to the new one into
    /// every manifest under OUT, so apps that pinned the courses to the old key accept the new.
    Rotate {
        /// The published tree (as written by `pack`).
        out: PathBuf,
        /// The publisher key the courses were signed with before.
        #[arg(long)]
        from: PathBuf,
    },
    /// Build the sample course's source folder (generates its lecture videos with ffmpeg).
    SampleCourse {
        /// Where to write the course source folder.
        out: PathBuf,
    },
    /// Serve a directory of published content (what any static host or CDN would do).
    Serve {
        /// The directory to publish.
        dir: PathBuf,
        /// Address to listen on; port 0 picks a free port. The chosen address is printed first.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match Cli::parse().command {
        Command::Serve { dir, listen } => runtime.block_on(serve::run(dir, listen)),
        Command::Keygen { out } => {
            println!("{}", keys::generate(&out)?);
            Ok(())
        }
        Command::Pack { src, out, key } => {
            let key = keys::load(&key)?;
            let report = pack::pack(&src, &out, &key)?;
            pack::print_report(&report);
            Ok(())
        }
        Command::Rotate { out, from } => {
            let changed = rotate::rotate(&out, &keys::load(&from)?)?;
            println!("{changed} manifests now carry the rotation");
            Ok(())
        }
        Command::SampleCourse { out } => sample::generate(&sample::default_source(), &out),
    }
}
