//! `course_update_5pct_bytes`: what updating a downloaded lite course costs after a 5% text edit
//! and one replaced slide, counted at a proxy in front of the reference server, beside a plain
//! refetch of the changed files and a refetch of the whole lite course.
//!
//! Version 1 is the packed sample course. Version 2 is the sample source with every 20th word of
//! every transcript and reading replaced, packed again by the real packer over the same tree
//! (which keeps the old manifest and writes the patches). The packer takes slides from the
//! video and has no input to swap one, so the replaced slide is put in afterwards, as a content
//! team's tool would: a new still (the old one with a box drawn on it, by ffmpeg) becomes a new
//! blob in the short lecture's lite rendition, and the manifest is signed and published again
//! (with its pointer and the patches to it, as the packer publishes). The new still is encoded
//! as the packer encodes stills. Both sides are counted on the wire, headers included: the
//! update as the phone fetches it, the plain refetch as one GET per changed file and one for
//! the whole manifest.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use satchel_core::catalog::{Manifest, RenditionKind};
use satchel_core::content::fetch::blob_url_path;
use satchel_core::content::store::sha256_hex;
use satchel_core::downloads::DownloadTarget;
use satchel_core::runtime::runtime;
use satchel_server::pack;
use satchel_server::pack::lite;

use super::downloads::open;
use super::report::{Goal, Row};
use crate::ServerProcess;
use crate::fault_proxy::{FaultProxy, Faults};
use crate::sample::{packed_sample, target_dir, test_publisher_key};

const COURSE: &str = "web-basics";
/// The lecture whose slide is replaced.
const SHORT_LECTURE: &str = "web-basics.dns";

fn published(out: &Path) -> Result<Manifest> {
    let path = out.join("courses").join(COURSE).join("manifest.signed.json");
    let envelope: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
    Ok(Manifest::parse(envelope["payload"].as_str().context("envelope without payload")?)?)
}

/// Hard links of a tree (`cp -al`): cheap, and safe because the packer and this bench replace
/// files (write and rename, or remove and write) and never write into one.
fn link_copy(from: &Path, to: &Path) -> Result<()> {
    let status = Command::new("cp").arg("-al").arg(from).arg(to).status()?;
    ensure!(status.success(), "cp -al {} failed", from.display());
    Ok(())
}

/// Replaces every 20th word of the text lines of `path` (not WebVTT timings), in a new file.
fn edit_five_percent(path: &Path, counter: &mut usize) -> Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let timing = line.contains("-->") || line.starts_with("WEBVTT") || line.trim().parse::<u64>().is_ok();
        if timing {
            out.push_str(line);
            continue;
        }
        let mut first = true;
        for word in line.split(' ') {
            if !first {
                out.push(' ');
            }
            first = false;
            if !word.trim().is_empty() {
                *counter += 1;
                if (*counter).is_multiple_of(20) {
                    let end = if word.ends_with('\n') { "\n" } else { "" };
                    out.push_str("revised");
                    out.push_str(end);
                    continue;
                }
            }
            out.push_str(word);
        }
    }
    std::fs::remove_file(path)?;
    std::fs::write(path, out)?;
    Ok(())
}

/// The edited source: every transcript and reading of the course, and version 2.
fn edit_source(src: &Path) -> Result<()> {
    let course_path = src.join("course.json");
    let mut course: serde_json::Value = serde_json::from_slice(&std::fs::read(&course_path)?)?;
    let mut counter = 0;
    let lessons = course["modules"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["lessons"].as_array().into_iter().flatten());
    let files: Vec<String> = lessons
        .flat_map(|l| ["transcript", "reading"].map(|k| l[k].as_str().map(str::to_owned)))
        .flatten()
        .collect();
    for file in files {
        edit_five_percent(&src.join(file), &mut counter)?;
    }
    course["version"] = serde_json::json!(2);
    std::fs::remove_file(&course_path)?;
    std::fs::write(&course_path, serde_json::to_vec_pretty(&course)?)?;
    Ok(())
}

/// Swaps the last slide of the short lecture's lite rendition for a new still and signs the
/// manifest again. Returns the new blob's size.
fn replace_one_slide(out: &Path) -> Result<u64> {
    let mut manifest = published(out)?;
    let lesson = manifest
        .modules
        .iter_mut()
        .flat_map(|m| m.lessons.iter_mut())
        .find(|l| l.id == SHORT_LECTURE)
        .context("no short lecture")?;
    let lite =
        lesson.renditions.iter_mut().find(|r| r.kind == RenditionKind::Lite).context("no lite rendition")?;
    let slide = lite.blobs.iter_mut().rev().find(|b| b.role.starts_with("slides/")).context("no slide")?;
    // The new still is made as the packer makes every still (8-colour lossless WebP, 640 px
    // wide), so it weighs what a replaced slide weighs in a real update.
    let dir = tempfile::tempdir()?;
    let drawn = dir.path().join("drawn.png");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(out.join(blob_url_path(&slide.hash)))
        .args(["-vf", "drawbox=x=40:y=40:w=200:h=60:color=red@1:t=fill", "-frames:v", "1"])
        .arg(&drawn)
        .status()?;
    ensure!(status.success(), "ffmpeg could not draw the replaced slide");
    let new_path = dir.path().join("slide.webp");
    lite::encode_still(&drawn, 0, &new_path, lite::SLIDE_STILL)?;
    let bytes = std::fs::read(&new_path)?;
    slide.hash = sha256_hex(&bytes);
    slide.size = bytes.len() as u64;
    slide.stored_size = bytes.len() as u64;
    let blob_path = out.join(blob_url_path(&slide.hash));
    std::fs::create_dir_all(blob_path.parent().context("blob path")?)?;
    std::fs::write(&blob_path, &bytes)?;
    lite.bytes = lite.blobs.iter().map(|b| b.stored_size).sum();
    let payload = serde_json::to_string(&manifest)?;
    Manifest::parse(&payload)?;
    let envelope = satchel_core::content::signed::sign(payload, &test_publisher_key());
    pack::publish::publish_envelope(&out.join("courses").join(COURSE), &serde_json::to_vec(&envelope)?)?;
    Ok(bytes.len() as u64)
}

/// The distinct blobs of every lite rendition: (hash, stored size, is text).
fn lite_blobs(manifest: &Manifest) -> Vec<(String, u64, bool)> {
    let mut seen = HashSet::new();
    manifest
        .lessons()
        .flat_map(|l| &l.renditions)
        .filter(|r| r.kind == RenditionKind::Lite)
        .flat_map(|r| &r.blobs)
        .filter(|b| seen.insert(b.hash.clone()))
        .map(|b| (b.hash.clone(), b.stored_size, b.encoding != satchel_core::catalog::Encoding::Identity))
        .collect()
}

/// `course_update_5pct_bytes` and its two companion rows.
pub fn update() -> Result<Vec<Row>> {
    let packed = packed_sample()?;
    let work = tempfile::tempdir_in(target_dir())?;
    let (src, out) = (work.path().join("src"), work.path().join("out"));
    link_copy(&packed.source, &src)?;
    link_copy(&packed.dir, &out)?;
    let v1 = published(&out)?;

    let server = ServerProcess::serve(&out)?;
    let proxy = FaultProxy::start(server.addr, Faults::default())?;
    let dir = tempfile::tempdir()?;
    let satchel = open(dir.path())?;
    let rt = runtime();
    rt.block_on(satchel.fetch_course(proxy.base_url(), COURSE.into()))?;
    rt.block_on(satchel.enqueue_download(
        DownloadTarget::Course { course_id: COURSE.into() },
        RenditionKind::Lite,
        0,
    ))?;
    let first = rt.block_on(satchel.run_downloads(600_000))?;
    ensure!(first.failed == 0 && first.remaining == 0, "the first download did not finish: {first:?}");
    let whole_course = proxy.reply_bytes();

    edit_source(&src)?;
    eprintln!("bench: packing version 2 of the sample course");
    pack::pack(&src, &out, &test_publisher_key())?;
    let slide_bytes = replace_one_slide(&out)?;
    let v2 = published(&out)?;
    let whole_manifest =
        std::fs::metadata(out.join("courses").join(COURSE).join("manifest.signed.json"))?.len();

    proxy.reset_counters();
    rt.block_on(satchel.fetch_course(proxy.base_url(), COURSE.into()))?;
    let manifest_bytes = proxy.reply_bytes();
    let summary = rt.block_on(satchel.run_downloads(600_000))?;
    if summary.failed > 0 || summary.remaining > 0 {
        bail!("the update did not finish: {summary:?}");
    }
    let update_bytes = proxy.reply_bytes();
    let failures = satchel.account().store().read(satchel_core::content::patch::failures)?;
    ensure!(failures.is_empty(), "patches failed: {failures:?}");

    let old: HashSet<String> = lite_blobs(&v1).into_iter().map(|(h, _, _)| h).collect();
    let changed: Vec<(String, u64, bool)> =
        lite_blobs(&v2).into_iter().filter(|(h, _, _)| !old.contains(h)).collect();
    let changed_bytes: u64 = changed.iter().map(|(_, size, _)| size).sum();
    let changed_text: u64 = changed.iter().filter(|(_, _, text)| *text).map(|(_, size, _)| size).sum();
    let patched: HashSet<&str> = changed.iter().map(|(h, _, _)| h.as_str()).collect();
    // Version 2 has one earlier version, so one patch per changed text.
    let patch_bytes: u64 =
        v2.patches.iter().filter(|p| patched.contains(p.result.as_str())).map(|p| p.size).sum();
    // The peer on the same wire: the changed files and the whole manifest fetched plainly, one
    // GET each, through the same proxy, so both sides pay the same HTTP headers per reply.
    proxy.reset_counters();
    let base = proxy.base_url();
    let urls: Vec<String> = changed
        .iter()
        .map(|(hash, _, _)| format!("{base}{}", blob_url_path(hash)))
        .chain([format!("{base}courses/{COURSE}/manifest.signed.json")])
        .collect();
    rt.block_on(async {
        let client = reqwest::Client::new();
        for url in &urls {
            client.get(url).send().await?.error_for_status()?.bytes().await?;
        }
        anyhow::Ok(())
    })?;
    let refetch_bytes = proxy.reply_bytes();
    ensure!(refetch_bytes >= changed_bytes + whole_manifest, "the refetch came short: {refetch_bytes} B");
    eprintln!(
        "bench: update {update_bytes} B (manifest {manifest_bytes} B where whole it is {whole_manifest} B, \
         replaced slide {slide_bytes} B, {} changed lite files: {changed_text} B of text as {patch_bytes} B \
         of patches); the plain refetch {refetch_bytes} B ({} B of files and manifest, the rest headers)",
        changed.len(),
        changed_bytes + whole_manifest
    );
    Ok(vec![
        Row::new(
            "course_update_5pct_bytes",
            update_bytes as f64,
            "bytes",
            "plain refetch of the changed files + manifest",
            refetch_bytes as f64,
            Goal::RatioAtMost(0.10),
        ),
        Row::new(
            "course_update_5pct_bytes:whole_course",
            update_bytes as f64,
            "bytes",
            "refetch of the whole lite course",
            whole_course as f64,
            Goal::RatioAtMost(0.10),
        ),
        Row::new(
            "course_update_5pct_bytes:text",
            patch_bytes as f64,
            "bytes",
            "the changed text files, whole",
            changed_text as f64,
            Goal::RatioAtMost(0.10),
        ),
    ])
}
