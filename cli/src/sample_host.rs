//! The demo's embedded content host: the sample course, generated (ffmpeg, espeak-ng), packed and
//! signed once into a cache, and served on loopback by the reference server running inside this
//! process.

use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use satchel_core::runtime::runtime;
use satchel_server::serve::Background;
use satchel_server::{keys, pack, sample, serve};

pub struct SampleHost {
    pub base_url: String,
    pub public_key: String,
    _server: Background,
}

/// Whether the tools that render the sample lectures are installed.
pub fn media_tools_available() -> bool {
    [("ffmpeg", "-version"), ("ffprobe", "-version"), ("espeak-ng", "--version")].iter().all(
        |(tool, flag)| {
            Command::new(tool)
                .arg(flag)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        },
    )
}

pub fn start() -> Result<SampleHost> {
    let cache = sample::cache_dir();
    let source = cache.join("sample-course");
    let stamp_path = source.join(".generated");
    if !stamp_path.is_file() {
        println!("(first run: rendering the sample lectures with ffmpeg and espeak-ng, about 3 minutes)");
    }
    sample::generate(&sample::default_source(), &source)?;
    let stamp =
        format!("{} pack-format {}", std::fs::read_to_string(&stamp_path)?, pack::PACK_FORMAT_VERSION);

    let key_path = cache.join("demo-publisher.key");
    if !key_path.is_file() {
        keys::generate(&key_path)?;
    }
    let key = keys::load(&key_path)?;
    let packed = cache.join("demo-packed");
    let packed_stamp = packed.join(".source");
    let manifest = packed.join("courses/web-basics/manifest.signed.json");
    let up_to_date =
        std::fs::read_to_string(&packed_stamp).ok().as_deref() == Some(stamp.as_str()) && manifest.is_file();
    if !up_to_date {
        println!("(packing the sample course: full, lite and text renditions)");
        if packed.exists() {
            std::fs::remove_dir_all(&packed)?;
        }
        let report = pack::pack(&source, &packed, &key)?;
        pack::print_report(&report);
        std::fs::write(&packed_stamp, &stamp)?;
    }
    let server = runtime()
        .block_on(serve::spawn(packed, "127.0.0.1:0".parse().context("loopback address")?))
        .context("cannot start the embedded content server")?;
    Ok(SampleHost {
        base_url: format!("http://{}/", server.addr),
        public_key: keys::public_key(&key),
        _server: server,
    })
}
