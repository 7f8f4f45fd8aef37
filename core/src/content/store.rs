//! The content directory: verified blobs named by their SHA-256.
//!
//! A blob is decoded into a temporary file while being hashed and counted, with hard limits, and
//! renamed into place (after fsync) only once its hash and size match. A reader therefore either
//! finds a complete, verified file under the hash's name, or nothing: never a partial file.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::ContentError;
use crate::catalog::{BlobEntry, Encoding};
use crate::error::{Error, Result};

/// The largest zstd window a patch may ask for (16 MiB): text blobs and their bases are far
/// smaller, and a phone must not allocate what a crafted frame header claims.
pub const PATCH_WINDOW_LOG_MAX: u32 = 24;

/// Verified blobs under `<account>/content/blobs/ab/abcdef…`.
#[derive(Debug, Clone)]
pub struct ContentStore {
    root: PathBuf,
}

impl ContentStore {
    pub fn new(root: impl Into<PathBuf>) -> ContentStore {
        ContentStore { root: root.into() }
    }

    /// Where a verified blob lives (whether or not it is there). `hash` must be a validated
    /// lowercase hex SHA-256, as every hash from a parsed manifest is.
    pub fn blob_path(&self, hash: &str) -> PathBuf {
        self.root.join("blobs").join(hash.get(..2).unwrap_or("__")).join(hash)
    }

    /// Where the bytes of a blob being downloaded are kept until it is complete and verified.
    /// On the same file system as the blobs, so committing is a rename.
    pub fn partial_path(&self, hash: &str) -> PathBuf {
        self.root.join("partial").join(format!("{hash}.part"))
    }

    /// Moves a file whose bytes were already verified against `hash` into place, durably.
    pub fn adopt(&self, hash: &str, verified: &Path) -> Result<PathBuf> {
        File::open(verified)?.sync_all()?;
        let path = self.blob_path(hash);
        let parent = path.parent().ok_or_else(|| Error::Internal("blob path has no parent".into()))?;
        fs::create_dir_all(parent)?;
        fs::rename(verified, &path)?;
        sync_dir(parent)?;
        Ok(path)
    }

    /// Where the core's temporary files go: inside the account, never the system's temporary
    /// directory (on older Android that is /data/local/tmp, outside the app's own storage).
    pub fn tmp_dir(&self) -> Result<PathBuf> {
        let dir = self.root.join("tmp");
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// The directory everything lives under (for free-space checks).
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn contains(&self, hash: &str) -> bool {
        self.blob_path(hash).is_file()
    }

    /// Decodes `stored` (the bytes as the host serves them) into the store, verifying size and
    /// hash. Returns the final path.
    pub fn ingest(&self, blob: &BlobEntry, stored: impl Read, dictionary: Option<&[u8]>) -> Result<PathBuf> {
        // One more byte than declared, so a longer body is caught rather than silently cut.
        let limited = stored.take(blob.stored_size.saturating_add(1));
        let mut counted = CountingReader { inner: limited, count: 0 };
        self.write_verified(blob, |file| {
            let written = match blob.encoding {
                Encoding::Identity => copy_verified(blob, &mut counted, file)?,
                Encoding::Zstd => {
                    let mut decoder =
                        zstd::stream::read::Decoder::new(&mut counted).map_err(|e| corrupt(blob, e))?;
                    copy_verified(blob, &mut decoder, file)?
                }
                Encoding::ZstdDict => {
                    let dictionary = dictionary
                        .ok_or_else(|| ContentError::MissingDictionary { hash: blob.hash.clone() })?;
                    let mut decoder = zstd::stream::read::Decoder::with_dictionary(
                        io::BufReader::new(&mut counted),
                        dictionary,
                    )
                    .map_err(|e| corrupt(blob, e))?;
                    copy_verified(blob, &mut decoder, file)?
                }
            };
            if counted.count != blob.stored_size {
                return Err(ContentError::SizeMismatch {
                    hash: blob.hash.clone(),
                    expected: blob.stored_size,
                    actual: counted.count,
                }
                .into());
            }
            Ok(written)
        })
    }

    /// Applies a zstd patch (a frame whose reference prefix is `base`, the decoded bytes of an
    /// older blob) and stores the result as `blob`, with the same limits as [`Self::ingest`]:
    /// never more than the blob's declared size written, its exact size and hash required. The
    /// decoder's window is capped so a hostile frame header cannot make it allocate more.
    pub fn ingest_patched(&self, blob: &BlobEntry, base: &[u8], patch: &[u8]) -> Result<PathBuf> {
        self.write_verified(blob, |file| {
            let mut decoder =
                zstd::stream::read::Decoder::with_ref_prefix(patch, base).map_err(|e| corrupt(blob, e))?;
            decoder.window_log_max(PATCH_WINDOW_LOG_MAX).map_err(|e| corrupt(blob, e))?;
            // Errors while decoding are the patch's fault, whatever the blob's own encoding.
            let as_text = BlobEntry { encoding: Encoding::Zstd, ..blob.clone() };
            copy_verified(&as_text, &mut decoder, file)
        })
    }

    /// Writes a blob's decoded bytes (from `decode`, which returns their count and hash) to a
    /// temporary file, and moves it into place durably once the hash is the blob's.
    fn write_verified(
        &self,
        blob: &BlobEntry,
        decode: impl FnOnce(&mut &File) -> Result<(u64, String)>,
    ) -> Result<PathBuf> {
        let tmp = tempfile::Builder::new().prefix(&blob.hash).suffix(".part").tempfile_in(self.tmp_dir()?)?;
        let written = decode(&mut tmp.as_file())?;
        if written.1 != blob.hash {
            return Err(ContentError::HashMismatch { hash: blob.hash.clone(), actual: written.1 }.into());
        }
        tmp.as_file().sync_all()?;
        let path = self.blob_path(&blob.hash);
        let parent = path.parent().ok_or_else(|| Error::Internal("blob path has no parent".into()))?;
        fs::create_dir_all(parent)?;
        tmp.persist(&path).map_err(|e| Error::Io(e.error))?;
        sync_dir(parent)?;
        Ok(path)
    }

    /// Reads a whole verified blob (small files: dictionaries, transcripts, readings).
    pub fn read(&self, hash: &str) -> Result<Vec<u8>> {
        Ok(fs::read(self.blob_path(hash))?)
    }

    /// Removes a blob, e.g. on eviction. Missing is fine.
    pub fn remove(&self, hash: &str) -> Result<()> {
        match fs::remove_file(self.blob_path(hash)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// Copies decoded bytes, hashing them and refusing to write past the declared size.
/// Returns (bytes written, hex hash).
fn copy_verified(blob: &BlobEntry, from: &mut impl Read, to: &mut impl Write) -> Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if blob.encoding == Encoding::Identity => return Err(e.into()),
            Err(e) => return Err(corrupt(blob, e).into()),
        };
        total += n as u64;
        if total > blob.size {
            return Err(if blob.encoding == Encoding::Identity {
                ContentError::SizeMismatch { hash: blob.hash.clone(), expected: blob.size, actual: total }
            } else {
                ContentError::Bomb { hash: blob.hash.clone() }
            }
            .into());
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
    }
    if total != blob.size {
        return Err(ContentError::SizeMismatch {
            hash: blob.hash.clone(),
            expected: blob.size,
            actual: total,
        }
        .into());
    }
    Ok((total, hex(&hasher.finalize())))
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of some bytes, as a blob name.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn corrupt(blob: &BlobEntry, e: io::Error) -> ContentError {
    ContentError::Corrupt { hash: blob.hash.clone(), reason: e.to_string() }
}

struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Makes a rename durable: without it a power cut can forget the new directory entry.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    let _ = dir;
    Ok(())
}
