//! Writing content-addressed blobs into the output tree: `blobs/ab/abcdef…`, named by the
//! SHA-256 of the original bytes, stored once however many lessons use them.

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use satchel_core::catalog::{BlobEntry, Encoding};
use satchel_core::content::fetch::blob_url_path;
use satchel_core::content::store::hex;
use sha2::{Digest, Sha256};

/// zstd level for text: packing happens once, downloads happen many times.
const TEXT_LEVEL: i32 = 19;

pub struct BlobWriter {
    out: PathBuf,
    dictionary: Option<Vec<u8>>,
    /// Bytes written, for the report.
    pub stored_bytes: u64,
    /// Folders a blob was renamed into, to make those renames durable before a manifest lists
    /// the blobs ([`BlobWriter::sync_folders`]).
    folders: BTreeSet<PathBuf>,
}

impl BlobWriter {
    pub fn new(out: &Path, dictionary: Option<Vec<u8>>) -> BlobWriter {
        BlobWriter { out: out.to_path_buf(), dictionary, stored_bytes: 0, folders: BTreeSet::new() }
    }

    /// Makes every blob written so far durable under its name (each file was synced before its
    /// rename; this syncs the folders that hold the renames). Called before the manifest that
    /// lists them is published: after a crash of the host a manifest must not name a blob
    /// whose rename was lost.
    pub fn sync_folders(&self) -> Result<()> {
        self.folders.iter().try_for_each(|dir| super::patches::sync_dir(dir))
    }

    /// A media file, stored as is so a player can stream it straight from the host.
    pub fn media(&mut self, path: &Path, media_type: &str, role: &str) -> Result<BlobEntry> {
        let mut file = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let tmp = tempfile::NamedTempFile::new_in(&self.out)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        {
            let mut writer = std::io::BufWriter::new(tmp.as_file());
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                writer.write_all(&buf[..n])?;
                size += n as u64;
            }
            writer.flush()?;
        }
        let hash = hex(&hasher.finalize());
        self.place(tmp, &hash)?;
        Ok(self.entry(hash, size, size, media_type, Encoding::Identity, role))
    }

    /// A text file, zstd-compressed with the course dictionary (or without, if there is none).
    pub fn text(&mut self, bytes: &[u8], media_type: &str, role: &str) -> Result<BlobEntry> {
        let hash = hex(&Sha256::digest(bytes));
        let (stored, encoding) = match &self.dictionary {
            Some(dict) => {
                let mut compressor = zstd::bulk::Compressor::with_dictionary(TEXT_LEVEL, dict)?;
                compressor.include_checksum(false)?;
                compressor.include_dictid(false)?;
                compressor.include_contentsize(true)?;
                (compressor.compress(bytes)?, Encoding::ZstdDict)
            }
            None => (zstd::bulk::compress(bytes, TEXT_LEVEL)?, Encoding::Zstd),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(&self.out)?;
        tmp.write_all(&stored)?;
        self.place(tmp, &hash)?;
        Ok(self.entry(hash, bytes.len() as u64, stored.len() as u64, media_type, encoding, role))
    }

    /// Text compressed as one solid zstd frame without the dictionary (the lite text pack:
    /// across files, repetition does the dictionary's job, and a lite download then needs no
    /// dictionary at all).
    pub fn solid(&mut self, bytes: &[u8], media_type: &str, role: &str) -> Result<BlobEntry> {
        let hash = hex(&Sha256::digest(bytes));
        let stored = zstd::bulk::compress(bytes, TEXT_LEVEL)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.out)?;
        tmp.write_all(&stored)?;
        self.place(tmp, &hash)?;
        Ok(self.entry(hash, bytes.len() as u64, stored.len() as u64, media_type, Encoding::Zstd, role))
    }

    /// The decoded dictionary text blobs are compressed with, if any.
    pub fn dictionary_bytes(&self) -> Option<&[u8]> {
        self.dictionary.as_deref()
    }

    /// The dictionary itself, zstd-compressed without a dictionary.
    pub fn dictionary(&mut self) -> Result<Option<BlobEntry>> {
        let Some(dict) = self.dictionary.clone() else { return Ok(None) };
        let hash = hex(&Sha256::digest(&dict));
        let stored = zstd::bulk::compress(&dict, TEXT_LEVEL)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.out)?;
        tmp.write_all(&stored)?;
        self.place(tmp, &hash)?;
        Ok(Some(self.entry(
            hash,
            dict.len() as u64,
            stored.len() as u64,
            "application/zstd-dictionary",
            Encoding::Zstd,
            "dictionary",
        )))
    }

    fn place(&mut self, tmp: tempfile::NamedTempFile, hash: &str) -> Result<()> {
        let path = self.out.join(blob_url_path(hash));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        // The blob's folder holds its rename; the one above holds the folder's, if it is new.
        self.folders.extend(path.ancestors().skip(1).take(2).map(Path::to_path_buf));
        Ok(())
    }

    fn entry(
        &mut self,
        hash: String,
        size: u64,
        stored: u64,
        media_type: &str,
        encoding: Encoding,
        role: &str,
    ) -> BlobEntry {
        self.stored_bytes += stored;
        BlobEntry {
            hash,
            size,
            stored_size: stored,
            media_type: media_type.into(),
            encoding,
            role: role.into(),
        }
    }
}

/// Dictionary sizes tried, in bytes.
const DICTIONARY_SIZES: &[usize] = &[1024, 2048, 4096, 8192, 16384];

/// Chooses the zstd dictionary that makes the course's text smallest *including the dictionary
/// itself* (it is downloaded once per course): trains one per candidate size on the text, line by
/// line (zstd learns from many small samples), and keeps the best, or none if none pays off.
pub fn choose_dictionary(texts: &[Vec<u8>]) -> Option<Vec<u8>> {
    let samples: Vec<&[u8]> =
        texts.iter().flat_map(|t| t.split(|b| *b == b'\n')).filter(|l| l.len() > 8).collect();
    let without: usize = texts.iter().map(|t| compressed_len(t, None)).sum();
    let mut best: Option<(usize, Vec<u8>)> = None;
    for &size in DICTIONARY_SIZES {
        let Ok(dict) = zstd::dict::from_samples(&samples, size) else { continue };
        let dict_cost = zstd::bulk::compress(&dict, TEXT_LEVEL).map(|c| c.len()).unwrap_or(usize::MAX);
        let total = dict_cost + texts.iter().map(|t| compressed_len(t, Some(&dict))).sum::<usize>();
        if total < without && best.as_ref().is_none_or(|(b, _)| total < *b) {
            best = Some((total, dict));
        }
    }
    best.map(|(_, dict)| dict)
}

fn compressed_len(text: &[u8], dict: Option<&[u8]>) -> usize {
    let result = match dict {
        Some(d) => zstd::bulk::Compressor::with_dictionary(TEXT_LEVEL, d).and_then(|mut c| {
            c.include_checksum(false)?;
            c.include_dictid(false)?;
            c.compress(text)
        }),
        None => zstd::bulk::compress(text, TEXT_LEVEL),
    };
    result.map(|c| c.len()).unwrap_or(usize::MAX)
}
