//! `satchel-server`: Satchel's reference server.
//!
//! Today it hosts a directory of published course content over HTTP, with the Range and
//! Last-Modified support resumable downloads need. The packager and the sync API join it as their
//! issues land.

mod media;
mod sample;
mod serve;
mod static_files;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "satchel-server", version, about = "Satchel reference server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        Command::SampleCourse { out } => sample::generate(&sample::default_source(), &out),
    }
}
