//! Static hosting of published content with what resumable downloads need: single byte ranges,
//! `If-Range`, strong `ETag`s and `Last-Modified`, the way nginx serves the same tree.
//!
//! The ETag is nginx's `"<mtime hex>-<size hex>"`, so a client that switches between this server
//! and nginx (or a CDN in front of it) sees the same validators for the same file.

use std::io::SeekFrom;
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

/// Serves files under `root` for GET and HEAD.
pub async fn serve(State(root): State<PathBuf>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Some(path) = resolve(&root, uri.path()) else { return StatusCode::NOT_FOUND.into_response() };
    let Ok(mut file) = tokio::fs::File::open(&path).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(meta) = file.metadata().await else { return StatusCode::NOT_FOUND.into_response() };
    if !meta.is_file() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let len = meta.len();
    let modified = meta.modified().unwrap_or(UNIX_EPOCH);
    let etag = etag(modified, len);
    let last_modified = httpdate::fmt_http_date(modified);

    let mut response_headers = HeaderMap::new();
    let set = |h: &mut HeaderMap, name, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set(&mut response_headers, header::ETAG, &etag);
    set(&mut response_headers, header::LAST_MODIFIED, &last_modified);
    set(&mut response_headers, header::ACCEPT_RANGES, "bytes");
    set(&mut response_headers, header::CONTENT_TYPE, content_type(&path));

    if header_str(&headers, header::IF_NONE_MATCH)
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return (StatusCode::NOT_MODIFIED, response_headers).into_response();
    }

    let range_allowed = match header_str(&headers, header::IF_RANGE) {
        None => true,
        // A strong comparison: weak tags never validate a range.
        Some(v) if v.starts_with('"') => v == etag,
        Some(v) => v == last_modified,
    };
    let (status, start, end) = match header_str(&headers, header::RANGE).filter(|_| range_allowed) {
        None => (StatusCode::OK, 0, len),
        Some(spec) => match parse_range(spec, len) {
            Some(Ok((start, end))) => {
                set(
                    &mut response_headers,
                    header::CONTENT_RANGE,
                    &format!("bytes {start}-{}/{len}", end - 1),
                );
                (StatusCode::PARTIAL_CONTENT, start, end)
            }
            Some(Err(())) => {
                set(&mut response_headers, header::CONTENT_RANGE, &format!("bytes */{len}"));
                return (StatusCode::RANGE_NOT_SATISFIABLE, response_headers).into_response();
            }
            // Unparseable or multi-range: ignore it and send the whole file, as RFC 9110 allows.
            None => (StatusCode::OK, 0, len),
        },
    };
    set(&mut response_headers, header::CONTENT_LENGTH, &(end - start).to_string());
    if method == Method::HEAD {
        return (status, response_headers).into_response();
    }
    if file.seek(SeekFrom::Start(start)).await.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let body = Body::from_stream(ReaderStream::with_capacity(file.take(end - start), 64 * 1024));
    (status, response_headers, body).into_response()
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn etag(modified: SystemTime, len: u64) -> String {
    let secs = modified.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("\"{secs:x}-{len:x}\"")
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` against a file of `len` bytes. `None`: not a single byte
/// range we understand (serve the whole file); `Some(Err)`: unsatisfiable (416).
fn parse_range(spec: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = spec.strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        let suffix: u64 = last.parse().ok()?;
        if suffix == 0 {
            return Some(Err(()));
        }
        (len.saturating_sub(suffix), len)
    } else {
        let start: u64 = first.parse().ok()?;
        let end = if last.is_empty() { len } else { last.parse::<u64>().ok()?.saturating_add(1).min(len) };
        if start >= len || end <= start {
            return Some(Err(()));
        }
        (start, end)
    };
    if range.0 >= range.1 { Some(Err(())) } else { Some(Ok(range)) }
}

/// Maps a URL path to a file under `root`, refusing anything that could leave it.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(url_path).decode_utf8().ok()?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let relative = Path::new(decoded.trim_start_matches('/'));
    let mut path = root.to_path_buf();
    for component in relative.components() {
        match component {
            Component::Normal(part) => path.push(part),
            _ => return None,
        }
    }
    Some(path)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "json" => "application/json",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "ogg" | "opus" => "audio/ogg",
        "webp" => "image/webp",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "vtt" => "text/vtt",
        "md" => "text/markdown; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_like_rfc_9110() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some(Ok((0, 100))));
        assert_eq!(parse_range("bytes=900-", 1000), Some(Ok((900, 1000))));
        assert_eq!(parse_range("bytes=-100", 1000), Some(Ok((900, 1000))));
        assert_eq!(parse_range("bytes=990-2000", 1000), Some(Ok((990, 1000))));
        assert_eq!(parse_range("bytes=1000-", 1000), Some(Err(())));
        assert_eq!(parse_range("bytes=5-1", 1000), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
    }

    #[test]
    fn paths_never_leave_the_root() {
        let root = Path::new("/srv/content");
        assert_eq!(resolve(root, "/blobs/ab/abc"), Some(PathBuf::from("/srv/content/blobs/ab/abc")));
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(resolve(root, "/blobs/%2e%2e/%2e%2e/etc/passwd"), None);
        assert_eq!(resolve(root, "/a%00b"), None);
    }
}
