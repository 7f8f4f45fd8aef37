//! `satchel-server`: Satchel's reference server and packager.
//!
//! `keygen` makes a publisher key, `pack` turns a course source folder into signed, content-
//! addressed content, `serve` hosts it (byte ranges, strong ETags, If-Range) as any static host
//! would, `rotate` hands published courses over from an old publisher key to a new one, and
//! `sample-course` builds the sample course's source with generated lecture videos.
//! `serve --database --sync-secret` adds the sync API beside the content (SQLite, or PostgreSQL
//! shared by several servers); `sync-secret`,
//! `sync-token` and `sync-new-epoch` are its operator commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use satchel_server::sync::auth::{self, TokenKey};
use satchel_server::sync::store::Database;
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
        /// Where to write the private answer keys of graded quizzes (never publish this
        /// folder; give it to `serve --grading`). Default: `<OUT>.grading` beside OUT.
        #[arg(long)]
        grading_out: Option<PathBuf>,
        /// Publish over the version already published even though its contents changed.
        /// Without it such a pack is refused: phones that hold that version would never get
        /// the change. Use it only while no phone can have fetched that version.
        #[arg(long)]
        replace_version: bool,
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
        /// Enables the sync API (`/sync/v1/…`) with its state in this database: a SQLite file
        /// (created if new), or `postgres://user:password@host:port/name`, which several servers
        /// may share (its schema is created or upgraded at start).
        #[arg(
            long = "database",
            visible_alias = "sync-db",
            value_name = "PATH|URL",
            requires = "sync_secret"
        )]
        sync_db: Option<Database>,
        /// The token secret from `sync-secret`; required with --database. Servers sharing a
        /// database share the secret.
        #[arg(long, requires = "sync_db")]
        sync_secret: Option<PathBuf>,
        /// Folder of grading files from `pack` (answer keys of graded quizzes).
        #[arg(long, requires = "sync_db")]
        grading: Option<PathBuf>,
    },
    /// Make the secret that signs sync tokens (created readable by you only).
    SyncSecret {
        #[arg(long)]
        out: PathBuf,
    },
    /// Mint a sync bearer token for a learner; prints it on stdout.
    SyncToken {
        /// The learner id (1 to 128 of A-Z a-z 0-9 . _ - @).
        #[arg(long)]
        learner: String,
        /// Seconds the token stays valid.
        #[arg(long, default_value_t = 30 * 24 * 3600)]
        ttl_s: u64,
        /// The secret from `sync-secret`.
        #[arg(long)]
        secret: PathBuf,
    },
    /// Give the sync database a new epoch: run it after restoring a backup, so every device
    /// notices and resends what the backup lacks (the reset handshake).
    SyncNewEpoch {
        /// The SQLite file or PostgreSQL URL, as given to `serve --database`.
        #[arg(long = "database", visible_alias = "sync-db", value_name = "PATH|URL")]
        sync_db: Database,
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match Cli::parse().command {
        Command::Serve { dir, listen, sync_db, sync_secret, grading } => {
            let sync = match (sync_db, sync_secret) {
                (Some(db), Some(secret)) => Some(serve::SyncOptions { db, secret, grading }),
                _ => None,
            };
            runtime.block_on(serve::run_with(serve::ServeOptions { dir, listen, sync }))
        }
        Command::SyncSecret { out } => {
            auth::generate_secret(&out)?;
            eprintln!("wrote {}; keep it private and pass it to serve --sync-secret", out.display());
            Ok(())
        }
        Command::SyncToken { learner, ttl_s, secret } => {
            let key = TokenKey::load(&secret)?;
            println!("{}", key.mint(&learner, auth::now_s().saturating_add(ttl_s))?);
            Ok(())
        }
        Command::SyncNewEpoch { sync_db } => {
            let epoch = runtime.block_on(serve::new_epoch(&sync_db))?;
            println!("{epoch}");
            Ok(())
        }
        Command::Keygen { out } => {
            println!("{}", keys::generate(&out)?);
            Ok(())
        }
        Command::Pack { src, out, key, grading_out, replace_version } => {
            let key = keys::load(&key)?;
            let options = pack::PackOptions { grading_out, replace_version };
            let report = pack::pack_with(&src, &out, &key, &options)?;
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
