//! HTTPS: a rustls acceptor from PEM certificate and key files.

use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use anyhow::Context;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

use crate::config::TlsFiles;

/// Builds an acceptor offering HTTP/2 and HTTP/1.1.
///
/// # Errors
/// Unreadable files, no certificate, or no private key in the key file.
pub fn acceptor(files: &TlsFiles) -> anyhow::Result<TlsAcceptor> {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let certs = rustls_pemfile::certs(&mut BufReader::new(
        File::open(&files.cert).with_context(|| format!("opening {}", files.cert.display()))?,
    ))
    .collect::<Result<Vec<_>, _>>()
    .with_context(|| format!("reading certificates from {}", files.cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!("no certificate found in {}", files.cert.display());
    }
    let key = rustls_pemfile::private_key(&mut BufReader::new(
        File::open(&files.key).with_context(|| format!("opening {}", files.key.display()))?,
    ))
    .with_context(|| format!("reading the private key from {}", files.key.display()))?
    .with_context(|| format!("no private key found in {}", files.key.display()))?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the certificate and key do not form a valid pair")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
