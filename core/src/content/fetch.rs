//! Fetching published content over HTTP(S): the signed manifest and whole blobs.
//!
//! HTTPS only; plain HTTP is accepted for loopback addresses alone (development and tests). Bodies
//! are read with hard size limits, blobs are streamed to a temporary file (never held in memory)
//! and then verified into the content store. Resumable, policy-aware downloads build on this.

use std::io::{Seek, SeekFrom, Write};
use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use super::store::ContentStore;
use crate::catalog::{BlobEntry, limits};
use crate::downloads::retry::retry_after_header;
use crate::error::{Error, NetworkErrorKind, Result};

/// A signed manifest is the manifest plus a little envelope.
pub const MAX_ENVELOPE_BYTES: u64 = limits::MANIFEST_BYTES as u64 * 2 + 4096;
/// The longest Retry-After passed on to the app (a host asking for hours is told to wait 15 min).
const RETRY_AFTER_CAP: Duration = Duration::from_secs(900);

/// The HTTP client the core uses for content. Cheap to clone.
#[derive(Clone)]
pub struct ContentClient {
    http: reqwest::Client,
}

/// The content client, made on first use (building it loads TLS roots) and shared by every clone.
#[derive(Clone, Default)]
pub struct LazyClient(std::sync::Arc<std::sync::OnceLock<ContentClient>>);

impl LazyClient {
    /// The client, building it on the first call.
    pub fn get(&self) -> Result<ContentClient> {
        if let Some(client) = self.0.get() {
            return Ok(client.clone());
        }
        let client = ContentClient::new()?;
        Ok(self.0.get_or_init(|| client).clone())
    }
}

impl ContentClient {
    pub fn new() -> Result<ContentClient> {
        let http = crate::http_client::client(Duration::from_secs(30))?;
        Ok(ContentClient { http })
    }

    /// The underlying HTTP client (connection pool shared by every download).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The URL of a blob under a course host's base URL.
    pub fn blob_url(base_url: &str, hash: &str) -> Result<Url> {
        join(base_url, &blob_url_path(hash))
    }

    /// The URL of a zstd patch from blob `base` to blob `result` under a course host's base URL.
    pub fn patch_url(base_url: &str, base: &str, result: &str) -> Result<Url> {
        join(base_url, &super::patch::patch_url_path(base, result))
    }

    /// The signed manifest of `course_id` under `base_url`.
    pub async fn manifest(&self, base_url: &str, course_id: &str) -> Result<String> {
        let url = join(base_url, &format!("courses/{course_id}/manifest.signed.json"))?;
        let body = self.get_limited(url, MAX_ENVELOPE_BYTES).await?;
        String::from_utf8(body)
            .map_err(|_| Error::network(NetworkErrorKind::BadReply, "the manifest is not UTF-8 text"))
    }

    /// The published hash of the course's signed manifest (`manifest.sha256`, see
    /// [`super::manifest_update`]), or `None` if the host has none: an older packager, or a
    /// reply that is not a hash (a "not found" page served with 200).
    pub async fn manifest_pointer(&self, base_url: &str, course_id: &str) -> Result<Option<String>> {
        let url = join(base_url, &format!("courses/{course_id}/manifest.sha256"))?;
        Ok(absent_if_missing(self.get_limited(url, POINTER_BYTES).await)?
            .and_then(|body| super::manifest_update::parse_pointer(&body)))
    }

    /// The patch from the envelope hashing to `base_hash` to the course's current one, or `None`
    /// if the host has none (the envelope is current, too old, or the host predates patches).
    pub async fn manifest_patch(
        &self,
        base_url: &str,
        course_id: &str,
        base_hash: &str,
    ) -> Result<Option<Vec<u8>>> {
        let url = join(base_url, &format!("courses/{course_id}/updates/{base_hash}.zst"))?;
        absent_if_missing(self.get_limited(url, MAX_ENVELOPE_BYTES).await)
    }

    /// Downloads one blob and verifies it into the store.
    pub async fn blob(
        &self,
        base_url: &str,
        blob: &BlobEntry,
        store: &ContentStore,
        dictionary: Option<&[u8]>,
    ) -> Result<std::path::PathBuf> {
        if store.contains(&blob.hash) {
            return Ok(store.blob_path(&blob.hash));
        }
        let url = join(base_url, &blob_url_path(&blob.hash))?;
        let mut response = self.send(url).await?;
        let mut spool = tempfile::tempfile_in(store.tmp_dir()?)?;
        let mut received: u64 = 0;
        while let Some(chunk) = response.chunk().await.map_err(network)? {
            received += chunk.len() as u64;
            if received > blob.stored_size {
                return Err(Error::network(
                    NetworkErrorKind::BadReply,
                    format!("blob {} is longer than declared", blob.hash),
                ));
            }
            spool.write_all(&chunk)?;
        }
        spool.seek(SeekFrom::Start(0))?;
        let store = store.clone();
        let blob = blob.clone();
        let dictionary = dictionary.map(<[u8]>::to_vec);
        crate::runtime::run_blocking(move || {
            store.ingest(&blob, std::io::BufReader::new(spool), dictionary.as_deref())
        })
        .await
    }

    async fn send(&self, url: Url) -> Result<reqwest::Response> {
        let response = self.http.get(url.clone()).send().await.map_err(network)?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = retry_after_header(response.headers(), RETRY_AFTER_CAP);
            return Err(Error::http_status(
                status.as_u16(),
                retry_after,
                format!("HTTP {} for {}", status.as_u16(), url.path()),
            ));
        }
        Ok(response)
    }

    async fn get_limited(&self, url: Url, limit: u64) -> Result<Vec<u8>> {
        let mut response = self.send(url).await?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(network)? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(Error::network(
                    NetworkErrorKind::BadReply,
                    format!("the reply is larger than {limit} bytes"),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// A `manifest.sha256` is 64 hex digits and a newline; anything much longer is not one.
const POINTER_BYTES: u64 = 256;

/// `None` for a file the host does not have. 403 counts as missing: S3 and the CDNs in front of
/// it answer 403 for a missing key when listing is not allowed.
fn absent_if_missing(reply: Result<Vec<u8>>) -> Result<Option<Vec<u8>>> {
    match reply {
        Ok(body) => Ok(Some(body)),
        Err(Error::Network { kind: NetworkErrorKind::HttpStatus, status: Some(403 | 404 | 410), .. }) => {
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// `blobs/ab/abcdef…`: where a blob lives under a course host's base URL.
pub fn blob_url_path(hash: &str) -> String {
    format!("blobs/{}/{hash}", hash.get(..2).unwrap_or("__"))
}

/// Parses and checks a base URL: HTTPS, or HTTP to a loopback address.
pub fn check_base_url(base_url: &str) -> Result<Url> {
    let mut url =
        Url::parse(base_url).map_err(|e| Error::invalid(format!("{base_url:?} is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::invalid("plain HTTP is only allowed to this device (loopback); use HTTPS"));
        }
        other => return Err(Error::invalid(format!("unsupported URL scheme {other:?}"))),
    }
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn join(base_url: &str, path: &str) -> Result<Url> {
    check_base_url(base_url)?.join(path).map_err(|e| Error::invalid(format!("cannot build a URL: {e}")))
}

fn network(e: reqwest::Error) -> Error {
    Error::network(crate::http_client::failure_kind(&e), crate::http_client::describe(&e))
}

#[cfg(test)]
mod tests {
    use super::check_base_url;

    #[test]
    fn https_everywhere_plain_http_only_on_loopback() {
        assert!(check_base_url("https://cdn.example.org/content").is_ok());
        assert!(check_base_url("http://127.0.0.1:8080/").is_ok());
        assert!(check_base_url("http://[::1]:8080/").is_ok());
        assert!(check_base_url("http://localhost/x").is_ok());
        assert!(check_base_url("http://cdn.example.org/").is_err());
        assert!(check_base_url("http://10.0.0.5/").is_err());
        assert!(check_base_url("ftp://127.0.0.1/").is_err());
        assert!(check_base_url("not a url").is_err());
        assert_eq!(check_base_url("https://h/a/b").unwrap().as_str(), "https://h/a/b/");
    }
}
