//! The shared file's framing, inside one zstd stream (so it is written and read front to back,
//! never seeked, and can be piped or sent as it is made):
//!
//! ```text
//! "SATCHEL-SHARE/1\n"
//! member*        'M' u16 name length, name (UTF-8), u64 size, size bytes
//! end            'E' u64 member count
//! ```
//!
//! Integers are big-endian. The first member is `manifest.signed.json` (the publisher's signed
//! envelope); the others are `blobs/<sha256>`, each a blob's decoded bytes. The end record
//! tells a complete file from a truncated one.

use std::io::{self, Read, Write};

use super::ShareError;

pub const MAGIC: &[u8] = b"SATCHEL-SHARE/1\n";
pub const MANIFEST_MEMBER: &str = "manifest.signed.json";
const MEMBER: u8 = b'M';
const END: u8 = b'E';
/// The largest zstd window a shared file may use (8 MiB).
const WINDOW_LOG_MAX: u32 = 23;
/// Longest member name accepted (`blobs/` and a hash are 70).
const NAME_BYTES: u16 = 200;

/// Writes members into the zstd stream of a shared file.
pub struct Writer<W: Write> {
    out: zstd::stream::write::Encoder<'static, W>,
    members: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> io::Result<Writer<W>> {
        // Level 3: media is already compressed, text is small; export must be quick on a phone.
        let mut out = zstd::stream::write::Encoder::new(out, 3)?;
        out.include_checksum(true)?;
        // Well inside what readers accept, whatever a later zstd picks for level 3.
        out.window_log(WINDOW_LOG_MAX - 2)?;
        out.write_all(MAGIC)?;
        Ok(Writer { out, members: 0 })
    }

    /// Writes one member of `size` bytes, copied from `body` (which must yield exactly that).
    pub fn member(&mut self, name: &str, size: u64, body: &mut dyn Read) -> io::Result<()> {
        let name_len = u16::try_from(name.len()).map_err(|_| io::Error::other("member name too long"))?;
        self.out.write_all(&[MEMBER])?;
        self.out.write_all(&name_len.to_be_bytes())?;
        self.out.write_all(name.as_bytes())?;
        self.out.write_all(&size.to_be_bytes())?;
        let copied = io::copy(&mut body.take(size), &mut self.out)?;
        if copied != size {
            return Err(io::Error::other(format!("member {name}: {copied} of {size} bytes")));
        }
        self.members += 1;
        Ok(())
    }

    /// Writes the end record and finishes the stream, returning the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[END])?;
        self.out.write_all(&self.members.to_be_bytes())?;
        self.out.finish()
    }
}

/// A member's header, read before any of its bytes.
pub struct MemberHeader {
    pub name: String,
    pub size: u64,
}

/// Reads a shared file front to back.
pub struct Reader<R: Read> {
    input: zstd::stream::read::Decoder<'static, io::BufReader<R>>,
    members: u64,
}

impl<R: Read> Reader<R> {
    pub fn new(input: R) -> Result<Reader<R>, ShareError> {
        let mut input = zstd::stream::read::Decoder::new(input).map_err(|_| ShareError::NotAShareFile)?;
        // The writer's level 3 uses a window of a few MiB; a crafted frame asking for more would
        // make the phone allocate it.
        input.window_log_max(WINDOW_LOG_MAX).map_err(|_| ShareError::NotAShareFile)?;
        let mut magic = [0u8; MAGIC.len()];
        // A zstd stream that ends early is a truncated file; one that is not zstd, not ours.
        input.read_exact(&mut magic).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => ShareError::Truncated,
            _ => ShareError::NotAShareFile,
        })?;
        if magic != MAGIC {
            return Err(ShareError::NotAShareFile);
        }
        Ok(Reader { input, members: 0 })
    }

    /// The next member's header, or `None` at a well-formed end.
    pub fn next_member(&mut self) -> Result<Option<MemberHeader>, ShareError> {
        let mut tag = [0u8; 1];
        read_exact(&mut self.input, &mut tag)?;
        match tag[0] {
            END => {
                let mut count = [0u8; 8];
                read_exact(&mut self.input, &mut count)?;
                if u64::from_be_bytes(count) != self.members {
                    return Err(ShareError::Malformed("the end record counts other members".into()));
                }
                // Nothing may follow the end record.
                let mut rest = [0u8; 1];
                match self.input.read(&mut rest) {
                    Ok(0) => Ok(None),
                    Ok(_) => Err(ShareError::Malformed("bytes after the end record".into())),
                    Err(e) => Err(stream_error(e)),
                }
            }
            MEMBER => {
                let mut len = [0u8; 2];
                read_exact(&mut self.input, &mut len)?;
                let len = u16::from_be_bytes(len);
                if len == 0 || len > NAME_BYTES {
                    return Err(ShareError::Malformed(format!("a member name of {len} bytes")));
                }
                let mut name = vec![0u8; usize::from(len)];
                read_exact(&mut self.input, &mut name)?;
                let name = String::from_utf8(name)
                    .map_err(|_| ShareError::Malformed("a member name that is not UTF-8".into()))?;
                let mut size = [0u8; 8];
                read_exact(&mut self.input, &mut size)?;
                self.members += 1;
                Ok(Some(MemberHeader { name, size: u64::from_be_bytes(size) }))
            }
            other => Err(ShareError::Malformed(format!("unknown record tag {other:#04x}"))),
        }
    }

    /// The body of the member whose header was just read: exactly `size` bytes.
    pub fn body(&mut self, size: u64) -> impl Read + '_ {
        BodyReader { inner: (&mut self.input).take(size), left: size }
    }
}

/// A member body that turns an early end of the stream into an error (a truncated file).
struct BodyReader<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for BodyReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof || e.kind() == io::ErrorKind::Interrupted => {
                return Err(e);
            }
            // The decoder's own errors: the compressed bytes are damaged.
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, DamagedStream(e.to_string()))),
        };
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the shared file ends inside a member"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A zstd error inside a member body, told apart from the disk's errors.
#[derive(Debug)]
pub struct DamagedStream(String);

impl std::fmt::Display for DamagedStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the compressed stream is damaged: {}", self.0)
    }
}

impl std::error::Error for DamagedStream {}

fn read_exact(input: &mut impl Read, buf: &mut [u8]) -> Result<(), ShareError> {
    input.read_exact(buf).map_err(stream_error)
}

/// An error of the zstd stream: its end before the end record is truncation; anything else is
/// a damaged file.
pub fn stream_error(e: io::Error) -> ShareError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        ShareError::Truncated
    } else {
        ShareError::Malformed(format!("the compressed stream is damaged: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn file(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut writer = Writer::new(Vec::new()).unwrap();
        for (name, body) in members {
            writer.member(name, body.len() as u64, &mut body.as_slice()).unwrap();
        }
        writer.finish().unwrap()
    }

    /// Reads every member, returning the first error.
    fn read_all(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ShareError> {
        let mut reader = Reader::new(bytes)?;
        let mut out = Vec::new();
        while let Some(header) = reader.next_member()? {
            let mut body = Vec::new();
            reader.body(header.size).read_to_end(&mut body).map_err(stream_error)?;
            out.push((header.name, body));
        }
        Ok(out)
    }

    #[test]
    fn members_round_trip_and_every_cut_is_truncated_or_malformed_never_accepted() {
        // Incompressible bytes, so the stream is long and a cut lands inside the member.
        let mut state = 1u64;
        let noise: Vec<u8> = (0..100_000)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (state >> 56) as u8
            })
            .collect();
        let bytes = file(&[("manifest.signed.json", b"{}".to_vec()), ("blobs/x", noise.clone())]);
        let members = read_all(&bytes).unwrap();
        assert_eq!(members[1], ("blobs/x".to_owned(), noise));
        for cut in [1, 10, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
            match read_all(&bytes[..cut]) {
                Err(ShareError::Truncated | ShareError::Malformed(_) | ShareError::NotAShareFile) => {}
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
        assert_eq!(read_all(&bytes[..bytes.len() / 2]).unwrap_err(), ShareError::Truncated);
    }

    #[test]
    fn anything_but_the_format_is_refused() {
        assert_eq!(read_all(b"PK\x03\x04").unwrap_err(), ShareError::NotAShareFile);
        let other_magic = zstd::encode_all(&b"SATCHEL-SHARE/9\n"[..], 3).unwrap();
        assert_eq!(read_all(&other_magic).unwrap_err(), ShareError::NotAShareFile);
        let mut tail = MAGIC.to_vec();
        tail.extend_from_slice(&[END]);
        tail.extend_from_slice(&5u64.to_be_bytes());
        let miscounted = zstd::encode_all(tail.as_slice(), 3).unwrap();
        assert!(matches!(read_all(&miscounted), Err(ShareError::Malformed(_))));
        let mut long_name = MAGIC.to_vec();
        long_name.push(MEMBER);
        long_name.extend_from_slice(&5000u16.to_be_bytes());
        let long_name = zstd::encode_all(long_name.as_slice(), 3).unwrap();
        assert!(matches!(read_all(&long_name), Err(ShareError::Malformed(_))));
    }
}
