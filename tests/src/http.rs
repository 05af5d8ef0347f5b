//! A minimal HTTP/1.1 GET over a raw TCP stream, enough to probe the peers
//! (Engine.IO polling handshake, readiness) without an HTTP client crate.

use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long one [`http_get`] may take, connect to last byte.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest response [`http_get`] accepts.
const MAX_RESPONSE: usize = 4 * 1024 * 1024;

/// A parsed HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code, e.g. 200.
    pub status: u16,
    /// Header fields in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked if it was sent chunked.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET path` on `127.0.0.1:port` with `Connection: close`; fails after 5 s.
pub async fn http_get(port: u16, path: &str) -> anyhow::Result<HttpResponse> {
    tokio::time::timeout(REQUEST_TIMEOUT, get_inner(port, path))
        .await
        .with_context(|| format!("GET http://127.0.0.1:{port}{path} timed out"))?
}

/// Performs an Engine.IO v4 polling handshake
/// (`GET /socket.io/?EIO=4&transport=polling`) and returns the body, after
/// checking the status is 200 and the body is an open packet (`0{…"sid"…}`).
pub async fn polling_handshake(port: u16) -> anyhow::Result<String> {
    let resp = http_get(port, "/socket.io/?EIO=4&transport=polling").await?;
    let body = resp.text();
    if resp.status != 200 {
        bail!(
            "polling handshake on port {port}: HTTP {} {body:?}",
            resp.status
        );
    }
    if !body.starts_with("0{") || !body.contains("\"sid\"") {
        bail!("polling handshake on port {port}: not an open packet: {body:?}");
    }
    Ok(body)
}

async fn get_inner(port: u16, path: &str) -> anyhow::Result<HttpResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
        if raw.len() > MAX_RESPONSE {
            bail!("response larger than {MAX_RESPONSE} bytes");
        }
        if let Some(resp) = parse_complete(&raw)? {
            return Ok(resp);
        }
    }
    parse_complete(&raw)?
        .or_else(|| parse_until_eof(&raw))
        .context("connection closed before a complete HTTP response")
}

/// Splits head and body; `None` while the head is incomplete.
fn split_head(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((&raw[..end], &raw[end + 4..]))
}

fn parse_head(head: &[u8]) -> anyhow::Result<(u16, Vec<(String, String)>)> {
    let head = std::str::from_utf8(head).context("non-UTF-8 response head")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers))
}

/// A response that is complete by its own framing (Content-Length or chunked).
fn parse_complete(raw: &[u8]) -> anyhow::Result<Option<HttpResponse>> {
    let Some((head, rest)) = split_head(raw) else {
        return Ok(None);
    };
    let (status, headers) = parse_head(head)?;
    let resp = |body: Vec<u8>| HttpResponse {
        status,
        headers: headers.clone(),
        body,
    };
    let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    if let Some(len) = find("content-length") {
        let len: usize = len.parse().context("bad Content-Length")?;
        return Ok((rest.len() >= len).then(|| resp(rest[..len].to_vec())));
    }
    if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        return Ok(dechunk(rest).map(resp));
    }
    Ok(None)
}

/// A response framed by the end of the connection.
fn parse_until_eof(raw: &[u8]) -> Option<HttpResponse> {
    let (head, rest) = split_head(raw)?;
    let (status, headers) = parse_head(head).ok()?;
    Some(HttpResponse {
        status,
        headers,
        body: rest.to_vec(),
    })
}

/// Decodes a chunked body; `None` until the last chunk has arrived.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_field = std::str::from_utf8(&data[..line_end]).ok()?;
        let size_hex = size_field.split(';').next()?.trim();
        let size = usize::from_str_radix(size_hex, 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        if data.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_framing() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        let resp = parse_complete(raw).expect("parse").expect("complete");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, b"abc");
        assert!(
            parse_complete(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")
                .expect("parse")
                .is_none()
        );
    }

    #[test]
    fn chunked_framing() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let resp = parse_complete(raw).expect("parse").expect("complete");
        assert_eq!(resp.body, b"abcde");
        assert_eq!(resp.header("Transfer-Encoding"), Some("chunked"));
    }
}
