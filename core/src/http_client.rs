//! The one way the core makes an HTTP client: TLS with Mozilla's root certificates, bundled.
//!
//! Why bundled roots (webpki-roots) rather than the platform's verifier:
//! - On Android, reqwest's default (rustls-platform-verifier) needs a JNI hand-off with an
//!   Android `Context` before the first TLS handshake, and panics without it. Bundled roots need
//!   nothing from the shell, so that panic cannot happen, and the same code path runs in every
//!   test on this machine as on a phone.
//! - The cheap phones Satchel is for run old Android versions whose system stores lack current
//!   roots: before 7.1.1 there is no ISRG Root X1 (Let's Encrypt), which many content hosts use.
//!   Bundled roots are current whatever the phone's age.
//! - The cost: certificates the user or an employer installed on the device are not trusted,
//!   and the roots change with app updates (webpki-roots follows Mozilla's list). Content and sync
//!   hosts are public HTTPS servers, so neither matters for Satchel's hosts.
//!
//! The platform verifier stays linked (reqwest's rustls features pull it in) but is never
//! constructed: every client gets the preconfigured rustls config built here.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, NetworkErrorKind, Result};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A client for the content or sync host: bundled roots, a connect timeout, `read_timeout` for a
/// stalled reply, and Satchel's user agent.
pub(crate) fn client(read_timeout: Duration) -> Result<reqwest::Client> {
    crate::runtime::install_crypto_provider();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config()?)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(read_timeout)
        .user_agent(concat!("satchel/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            Error::network(NetworkErrorKind::NotConfigured, format!("cannot build the HTTP client: {e}"))
        })
}

/// A reqwest error with its causes ("error sending request: … invalid peer certificate:
/// UnknownIssuer"): reqwest's own text stops at the first line, which tells nobody why. Without
/// the URL, which may carry a signed token in its query.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

/// What kind of network failure a reqwest error is: a refused certificate (found among its
/// causes), a host not reached, or a connection that broke.
pub(crate) fn failure_kind(error: &reqwest::Error) -> NetworkErrorKind {
    if rejects_certificate(error) {
        NetworkErrorKind::CertificateRejected
    } else if error.is_connect() {
        NetworkErrorKind::Unreachable
    } else {
        NetworkErrorKind::Interrupted
    }
}

/// Whether rustls refused the peer's certificate somewhere in `error`'s causes. `io::Error`
/// hides the error it wraps from `source()` (it returns that error's own source), and hyper
/// wraps rustls' error in two of them, so an `io::Error` is looked into with `get_ref`.
fn rejects_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(cause) = next {
        if matches!(cause.downcast_ref::<rustls::Error>(), Some(rustls::Error::InvalidCertificate(_))) {
            return true;
        }
        next = match cause.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(wrapped) => Some(wrapped as &(dyn std::error::Error + 'static)),
            None => cause.source(),
        };
    }
    false
}

/// TLS 1.2 and 1.3 with ring, trusting exactly Mozilla's roots; HTTP/1.1 over it.
fn tls_config() -> Result<rustls::ClientConfig> {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::network(NetworkErrorKind::NotConfigured, format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_roots_are_mozillas_and_include_lets_encrypt() {
        let config = tls_config().unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100, "Mozilla's list has well over 100 roots");
        // ISRG Root X1, the root old Android versions lack.
        let isrg = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .any(|root| String::from_utf8_lossy(root.subject.as_ref()).contains("ISRG Root X1"));
        assert!(isrg, "ISRG Root X1 is bundled");
        assert!(client(Duration::from_secs(30)).is_ok());
    }
}
