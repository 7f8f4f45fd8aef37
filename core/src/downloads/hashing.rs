//! SHA-256 of a blob's partial file, kept up to date as bytes are appended.
//!
//! For large blobs a helper thread follows the writer through the file (reading back what was
//! just written, from the page cache), so hashing runs on another core instead of after each
//! chunk on the receiving thread, and it flushes the file to disk every few tens of megabytes,
//! so the fsync before the blob is committed has little left to write (on a 1 GB file that
//! final fsync was almost half the download time). It never holds network buffers, so memory
//! stays flat. Small blobs are hashed in place.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::content::store::hex;

/// Blobs at least this large are hashed by a helper thread.
const HELPER_THREAD_FROM: u64 = 8 * 1024 * 1024;
/// The helper flushes the file to disk whenever this much more has been hashed.
const FLUSH_EVERY: u64 = 32 * 1024 * 1024;

pub enum RunningHash {
    Here(Sha256),
    Helper(Helper),
}

pub struct Helper {
    /// Bytes of the file the writer has finished writing.
    written: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    /// Taken by `finish`.
    thread: Option<JoinHandle<Option<Sha256>>>,
}

impl RunningHash {
    /// A hash of the `len` bytes already in `path`, kept current as bytes are appended, for a
    /// blob of `size` bytes.
    pub fn open(path: &Path, len: u64, size: u64) -> std::io::Result<RunningHash> {
        if size < HELPER_THREAD_FROM {
            let mut state = Sha256::new();
            if len > 0 {
                hash_range(&mut File::open(path)?, &mut state, 0, len)?;
            }
            return Ok(RunningHash::Here(state));
        }
        let mut file = File::open(path)?;
        let written = Arc::new(AtomicU64::new(len));
        let done = Arc::new(AtomicBool::new(false));
        let (w, d) = (Arc::clone(&written), Arc::clone(&done));
        let thread = std::thread::Builder::new().name("satchel-hash".into()).spawn(move || {
            let mut state = Sha256::new();
            let mut hashed = 0u64;
            let mut flushed = 0u64;
            loop {
                // Read `done` before `written`: once done is seen, `written` is final.
                let finished = d.load(Ordering::Acquire);
                let target = w.load(Ordering::Acquire);
                if hashed < target {
                    hash_range(&mut file, &mut state, hashed, target).ok()?;
                    hashed = target;
                    if hashed - flushed >= FLUSH_EVERY {
                        // Linux flushes the inode's dirty pages through any descriptor. A
                        // failure here only means the final fsync has more to do.
                        let _ = file.sync_data();
                        flushed = hashed;
                    }
                } else if finished {
                    return Some(state);
                } else {
                    std::thread::park_timeout(Duration::from_millis(5));
                }
            }
        })?;
        Ok(RunningHash::Helper(Helper { written, done, thread: Some(thread) }))
    }

    /// `bytes` were just appended (the file now holds `len` bytes).
    pub fn appended(&mut self, bytes: &[u8], len: u64) {
        match self {
            RunningHash::Here(state) => state.update(bytes),
            RunningHash::Helper(helper) => {
                helper.written.store(len, Ordering::Release);
                helper.wake();
            }
        }
    }

    /// The hex digest of everything appended, or `None` if the helper failed (hash the file).
    pub fn finish(self) -> Option<String> {
        match self {
            RunningHash::Here(state) => Some(hex(&state.finalize())),
            RunningHash::Helper(mut helper) => {
                helper.done.store(true, Ordering::Release);
                helper.wake();
                let thread = helper.thread.take()?;
                thread.join().ok().flatten().map(|state| hex(&state.finalize()))
            }
        }
    }
}

impl Helper {
    fn wake(&self) {
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        // Abandoned (reset, stop): let the thread end once it has caught up.
        self.done.store(true, Ordering::Release);
        self.wake();
    }
}

/// Hashes bytes `from..to` of `file`.
fn hash_range(file: &mut File, state: &mut Sha256, from: u64, to: u64) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(from))?;
    let mut left = to - from;
    let mut buf = vec![0u8; 256 * 1024];
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        state.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn the_helper_thread_and_in_place_hashing_agree_with_one_pass() {
        let data: Vec<u8> = (0..20_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let expected = hex(&Sha256::digest(&data));
        for size in [data.len() as u64, 1] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("blob.part");
            let mut file = File::create(&path).unwrap();
            file.write_all(&data[..1000]).unwrap();
            let mut running = RunningHash::open(&path, 1000, size).unwrap();
            let mut len = 1000u64;
            for chunk in data[1000..].chunks(65_536) {
                file.write_all(chunk).unwrap();
                len += chunk.len() as u64;
                running.appended(chunk, len);
            }
            assert_eq!(running.finish().as_deref(), Some(expected.as_str()), "size {size}");
        }
    }
}
