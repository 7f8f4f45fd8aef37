//! Body encoding: JSON, zstd-compressed when it is large enough to gain, and decoding that never
//! trusts the peer: the compressed input and the decompressed output are both capped (a
//! decompression bomb stops at the cap, having allocated no more than it), and every failure
//! is a typed [`CodecError`].

use std::io::Read;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::messages::ZSTD_ENCODING;

/// JSON bodies at least this long are compressed: below it, zstd's frame overhead and the
/// CPU cost buy next to nothing.
pub const COMPRESS_MIN_BYTES: usize = 1024;
/// zstd level: the default, a good speed/size trade on a phone's CPU.
pub const COMPRESSION_LEVEL: i32 = 3;
/// Largest zstd window a decoder accepts (2^23 = 8 MiB), so a frame cannot make the decoder
/// allocate a huge window. Level 3 on bodies of a few MiB stays well below it.
pub const MAX_WINDOW_LOG: u32 = 23;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
/// How much decompressed output is read at a time.
const READ_CHUNK_BYTES: usize = 16_384;

/// How a body is encoded, as in `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEncoding {
    /// Plain JSON (no header, or `identity`).
    Identity,
    /// zstd-compressed JSON (`Content-Encoding: zstd`).
    Zstd,
}

impl ContentEncoding {
    /// The `Content-Encoding` header value to send (`None`: send no header).
    pub fn header_value(self) -> Option<&'static str> {
        match self {
            ContentEncoding::Identity => None,
            ContentEncoding::Zstd => Some(ZSTD_ENCODING),
        }
    }

    /// Reads a `Content-Encoding` header (absent = identity). Anything but `zstd` or
    /// `identity` (case-insensitive, surrounding spaces ignored) is refused.
    pub fn from_header(value: Option<&str>) -> Result<ContentEncoding, CodecError> {
        match value.map(str::trim) {
            None => Ok(ContentEncoding::Identity),
            Some(v) if v.eq_ignore_ascii_case("identity") => Ok(ContentEncoding::Identity),
            Some(v) if v.eq_ignore_ascii_case(ZSTD_ENCODING) => Ok(ContentEncoding::Zstd),
            Some(v) => Err(CodecError::UnsupportedEncoding(v.chars().take(40).collect())),
        }
    }
}

/// An encoded body and the encoding to declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub encoding: ContentEncoding,
}

/// Why a body could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("body is over the limit of {limit} bytes{}", if *.decompressed { " once decompressed" } else { "" })]
    TooLarge { limit: usize, decompressed: bool },
    #[error("body declared as zstd is not a zstd frame")]
    NotZstd,
    #[error("zstd body is corrupt or truncated: {0}")]
    CorruptZstd(std::io::Error),
    #[error("unsupported content encoding {0:?}")]
    UnsupportedEncoding(String),
    #[error("body is not valid JSON (or is truncated or too deeply nested): {0}")]
    NotJson(serde_json::Error),
    #[error("body is JSON but not the expected message: {0}")]
    WrongShape(serde_json::Error),
    #[error("cannot encode body: {0}")]
    Encode(String),
}

/// Serialises `value` to JSON, and compresses it when that is at least
/// [`COMPRESS_MIN_BYTES`] long and compression actually makes it smaller.
pub fn encode<T: Serialize>(value: &T) -> Result<Encoded, CodecError> {
    let json = serde_json::to_vec(value).map_err(|e| CodecError::Encode(e.to_string()))?;
    if json.len() < COMPRESS_MIN_BYTES {
        return Ok(Encoded { bytes: json, encoding: ContentEncoding::Identity });
    }
    let compressed =
        zstd::bulk::compress(&json, COMPRESSION_LEVEL).map_err(|e| CodecError::Encode(e.to_string()))?;
    // Whichever is smaller (zstd grows incompressible input by a few bytes); plain on a tie.
    let plain = Encoded { bytes: json, encoding: ContentEncoding::Identity };
    let packed = Encoded { bytes: compressed, encoding: ContentEncoding::Zstd };
    Ok(std::cmp::min_by_key(plain, packed, |e| e.bytes.len()))
}

/// Decodes a body of at most `limit` bytes (before and after decompression) into `T`.
pub fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    encoding: ContentEncoding,
    limit: usize,
) -> Result<T, CodecError> {
    if bytes.len() > limit {
        return Err(CodecError::TooLarge { limit, decompressed: false });
    }
    match encoding {
        ContentEncoding::Identity => parse_json(bytes),
        ContentEncoding::Zstd => parse_json(&decompress(bytes, limit)?),
    }
}

/// Decompresses a zstd body, refusing output over `limit` bytes. The output buffer grows only
/// as data arrives and never past `limit`, so a bomb costs at most `limit` bytes of memory.
pub fn decompress(bytes: &[u8], limit: usize) -> Result<Vec<u8>, CodecError> {
    if !bytes.starts_with(&ZSTD_MAGIC) {
        return Err(CodecError::NotZstd);
    }
    let mut decoder = zstd::stream::read::Decoder::new(bytes).map_err(CodecError::CorruptZstd)?;
    decoder.window_log_max(MAX_WINDOW_LOG).map_err(CodecError::CorruptZstd)?;
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = [0u8; READ_CHUNK_BYTES];
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            // Reading from memory is never interrupted: any error is the frame's fault.
            Err(e) => return Err(CodecError::CorruptZstd(e)),
        };
        let needed = out.len() + n;
        if needed > limit {
            return Err(CodecError::TooLarge { limit, decompressed: true });
        }
        if needed > out.capacity() {
            // Double as usual, but never reserve past the limit.
            let target = needed.max(out.capacity().saturating_mul(2)).min(limit);
            out.reserve_exact(target - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => CodecError::WrongShape(e),
        _ => CodecError::NotJson(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{ErrorBody, ErrorCode, PullRequest};

    fn pull() -> PullRequest {
        PullRequest {
            protocol: 1,
            device_id: "d1".into(),
            epoch: Some("e1".into()),
            cursor: 7,
            max_bytes: 1024,
        }
    }

    #[test]
    fn small_bodies_stay_plain_json() {
        let encoded = encode(&pull()).unwrap();
        assert_eq!(encoded.encoding, ContentEncoding::Identity);
        assert!(encoded.bytes.starts_with(b"{\"protocol\":1"));
        assert_eq!(decode::<PullRequest>(&encoded.bytes, encoded.encoding, 1_000).unwrap(), pull());
    }

    #[test]
    fn large_bodies_are_compressed_and_round_trip() {
        let body = ErrorBody::new(ErrorCode::Internal, "x".repeat(5_000));
        let encoded = encode(&body).unwrap();
        assert_eq!(encoded.encoding, ContentEncoding::Zstd);
        assert!(encoded.bytes.starts_with(&ZSTD_MAGIC));
        assert!(encoded.bytes.len() < 200);
        assert_eq!(decode::<ErrorBody>(&encoded.bytes, ContentEncoding::Zstd, 10_000).unwrap(), body);
    }

    #[test]
    fn compression_starts_exactly_at_the_threshold() {
        // An ErrorBody whose JSON is exactly `len` bytes.
        let with_len = |len: usize| {
            let overhead = serde_json::to_vec(&ErrorBody::new(ErrorCode::Internal, "")).unwrap().len();
            ErrorBody::new(ErrorCode::Internal, "a".repeat(len - overhead))
        };
        let below = with_len(COMPRESS_MIN_BYTES - 1);
        assert_eq!(serde_json::to_vec(&below).unwrap().len(), COMPRESS_MIN_BYTES - 1);
        assert_eq!(encode(&below).unwrap().encoding, ContentEncoding::Identity);
        let at = with_len(COMPRESS_MIN_BYTES);
        assert_eq!(serde_json::to_vec(&at).unwrap().len(), COMPRESS_MIN_BYTES);
        assert_eq!(encode(&at).unwrap().encoding, ContentEncoding::Zstd);
    }

    #[test]
    fn incompressible_bodies_are_sent_plain() {
        // Pseudo-random hex: zstd cannot make it smaller than the JSON text by much, and the
        // JSON escape-free alphabet keeps it honest. Use a simple LCG for determinism.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let noise: String = (0..3_000)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                char::from(
                    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/"[(x >> 58) as usize],
                )
            })
            .collect();
        let encoded = encode(&noise).unwrap();
        let json_len = serde_json::to_vec(&noise).unwrap().len();
        match encoded.encoding {
            ContentEncoding::Identity => assert_eq!(encoded.bytes.len(), json_len),
            ContentEncoding::Zstd => assert!(encoded.bytes.len() < json_len),
        }
        assert_eq!(decode::<String>(&encoded.bytes, encoded.encoding, 10_000).unwrap(), noise);
        // Already-compressed bytes as a body: a second compression would only grow.
        let packed = zstd::bulk::compress(noise.as_bytes(), 19).unwrap();
        let as_numbers = encode(&packed).unwrap();
        assert!(as_numbers.bytes.len() <= serde_json::to_vec(&packed).unwrap().len());
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_cap() {
        let bomb = zstd::bulk::compress(&vec![b' '; 64 * 1024 * 1024], 19).unwrap();
        assert!(bomb.len() < 64 * 1024);
        let err = decode::<serde_json::Value>(&bomb, ContentEncoding::Zstd, 1024 * 1024).unwrap_err();
        assert!(matches!(err, CodecError::TooLarge { limit: 1_048_576, decompressed: true }), "{err}");
        // The same bytes within a generous cap decode (64 MiB of spaces is not JSON, though).
        let err = decompress(&bomb, 1024 * 1024).unwrap_err();
        assert!(matches!(err, CodecError::TooLarge { decompressed: true, .. }));
    }

    #[test]
    fn output_exactly_at_the_cap_is_accepted() {
        let json = b"[1,2,3]";
        let packed = zstd::bulk::compress(json, 3).unwrap();
        assert_eq!(decompress(&packed, json.len()).unwrap(), json);
        assert!(matches!(decompress(&packed, json.len() - 1), Err(CodecError::TooLarge { .. })));
        assert!(packed.len() <= 20);
        assert_eq!(decode::<Vec<u8>>(&packed, ContentEncoding::Zstd, 20).unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn the_output_buffer_never_grows_past_the_cap() {
        // Sizes that end between the usual doubling steps, and one a chunk multiple.
        for len in [1_000, 40_000, 100_000, 3 * READ_CHUNK_BYTES - 2] {
            let json = serde_json::to_vec(&"z".repeat(len)).unwrap();
            let packed = zstd::bulk::compress(&json, 3).unwrap();
            let out = decompress(&packed, json.len()).unwrap();
            assert_eq!(out, json);
            assert!(out.capacity() <= json.len(), "capacity {} > cap {}", out.capacity(), json.len());
        }
    }

    #[test]
    fn compressed_input_over_the_cap_is_refused_before_decoding() {
        let body = vec![b'x'; 101];
        assert!(matches!(
            decode::<serde_json::Value>(&body, ContentEncoding::Identity, 100),
            Err(CodecError::TooLarge { limit: 100, decompressed: false })
        ));
        assert!(matches!(
            decode::<serde_json::Value>(&body, ContentEncoding::Zstd, 100),
            Err(CodecError::TooLarge { limit: 100, decompressed: false })
        ));
        assert!(matches!(decode::<Vec<u8>>(b"[1]", ContentEncoding::Identity, 3), Ok(v) if v == vec![1]));
    }

    #[test]
    fn a_window_beyond_the_decoder_limit_is_refused() {
        // A frame made with a 2^27 window (long-distance matching on 200 MiB would be slow to
        // build; a frame header declaring the window is enough).
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        encoder.window_log(27).unwrap();
        encoder.include_contentsize(false).unwrap();
        encoder.set_pledged_src_size(None).unwrap();
        std::io::Write::write_all(&mut encoder, &vec![b'a'; 1 << 20]).unwrap();
        let frame = encoder.finish().unwrap();
        let err = decompress(&frame, 64 * 1024 * 1024).unwrap_err();
        assert!(matches!(err, CodecError::CorruptZstd(_)), "{err}");
    }

    #[test]
    fn not_zstd_truncated_zstd_and_garbage_are_typed() {
        assert!(matches!(
            decode::<serde_json::Value>(b"{\"a\":1}", ContentEncoding::Zstd, 100),
            Err(CodecError::NotZstd)
        ));
        assert!(matches!(
            decode::<serde_json::Value>(b"", ContentEncoding::Zstd, 100),
            Err(CodecError::NotZstd)
        ));
        let body = ErrorBody::new(ErrorCode::Internal, "y".repeat(4_000));
        let packed = encode(&body).unwrap().bytes;
        let truncated = &packed[..packed.len() - 3];
        assert!(matches!(
            decode::<ErrorBody>(truncated, ContentEncoding::Zstd, 10_000),
            Err(CodecError::CorruptZstd(_))
        ));
        let mut garbage = ZSTD_MAGIC.to_vec();
        garbage.extend_from_slice(&[0xFF; 32]);
        assert!(matches!(
            decode::<ErrorBody>(&garbage, ContentEncoding::Zstd, 10_000),
            Err(CodecError::CorruptZstd(_))
        ));
    }

    #[test]
    fn not_json_and_wrong_shape_are_told_apart() {
        assert!(matches!(
            decode::<PullRequest>(b"{\"protocol\":", ContentEncoding::Identity, 100),
            Err(CodecError::NotJson(_))
        ));
        assert!(matches!(
            decode::<PullRequest>(b"\xff\xfe", ContentEncoding::Identity, 100),
            Err(CodecError::NotJson(_))
        ));
        assert!(matches!(
            decode::<PullRequest>(b"{\"a\":1}", ContentEncoding::Identity, 100),
            Err(CodecError::WrongShape(_))
        ));
        assert!(matches!(
            decode::<PullRequest>(b"[1,2]", ContentEncoding::Identity, 100),
            Err(CodecError::WrongShape(_))
        ));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(
            decode::<serde_json::Value>(deep.as_bytes(), ContentEncoding::Identity, 100_000),
            Err(CodecError::NotJson(_))
        ));
    }

    #[test]
    fn content_encoding_header() {
        assert_eq!(ContentEncoding::from_header(None).unwrap(), ContentEncoding::Identity);
        assert_eq!(ContentEncoding::from_header(Some("identity")).unwrap(), ContentEncoding::Identity);
        assert_eq!(ContentEncoding::from_header(Some(" ZSTD ")).unwrap(), ContentEncoding::Zstd);
        assert!(
            matches!(ContentEncoding::from_header(Some("gzip")), Err(CodecError::UnsupportedEncoding(v)) if v == "gzip")
        );
        assert!(matches!(
            ContentEncoding::from_header(Some("zstd, gzip")),
            Err(CodecError::UnsupportedEncoding(_))
        ));
        assert_eq!(ContentEncoding::Zstd.header_value(), Some("zstd"));
        assert_eq!(ContentEncoding::Identity.header_value(), None);
    }

    #[test]
    fn error_text_says_which_cap() {
        let before = CodecError::TooLarge { limit: 5, decompressed: false }.to_string();
        let after = CodecError::TooLarge { limit: 5, decompressed: true }.to_string();
        assert_eq!(before, "body is over the limit of 5 bytes");
        assert_eq!(after, "body is over the limit of 5 bytes once decompressed");
    }
}
