//! One HTTP/1.1 request per connection, over TCP or a Unix socket: all the runner needs, with
//! no client library between it and the server under test.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// A reply: status and body.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Sends one request to `server` (`host:port` or `unix:<path>`).
pub fn send(server: &str, method: &str, path: &str, body: &[u8]) -> Result<Reply, String> {
    send_with(server, method, path, &[], body)
}

/// Like [`send`], with extra header lines (`Name: value`).
pub fn send_with(
    server: &str,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &[u8],
) -> Result<Reply, String> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let exchange = |stream: &mut dyn ReadWrite| -> std::io::Result<Vec<u8>> {
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        Ok(raw)
    };
    let raw = match server.strip_prefix("unix:") {
        Some(path) => {
            let mut stream =
                UnixStream::connect(path).map_err(|e| format!("connecting to {server}: {e}"))?;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
            exchange(&mut stream)
        }
        None => {
            let mut stream =
                TcpStream::connect(server).map_err(|e| format!("connecting to {server}: {e}"))?;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
            exchange(&mut stream)
        }
    }
    .map_err(|e| format!("{method} {path}: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: no HTTP response"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} {path}: bad status line"))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let mut body = raw[split + 4..].to_vec();
    if chunked {
        body = dechunk(&body);
    }
    Ok(Reply { status, body })
}

/// A path segment for a URL: bytes outside OPA's unreserved set percent-encoded.
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A byte stream to a server, TCP or Unix.
trait ReadWrite: Read + Write {}

impl<T: Read + Write> ReadWrite for T {}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        let start = line_end + 2;
        if size == 0 || data.len() < start + size {
            break;
        }
        out.extend_from_slice(&data[start..start + size]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn encodes_path_segments() {
        assert_eq!(segment("test"), "test");
        assert_eq!(segment("c d/é"), "c%20d%2F%C3%A9");
    }
}
