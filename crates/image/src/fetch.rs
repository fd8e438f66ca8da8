//! Fetching image data from a URL (the `web-download` import method and
//! the legacy `import` task): which URLs are allowed (Glance's
//! `[import_filtering_opts]` defaults: http/https, ports 80 and 443), and
//! a plain HTTP/1.1 GET streamed back in chunks.

use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use hyper_util::rt::TokioIo;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest the remote side may go without sending a byte.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `uri` passes the import filter: an http(s) URL with a host and,
/// when it names a port, one of `allowed_ports`.
pub fn allowed(uri: &str, allowed_ports: &[u16]) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    if url.host_str().is_none_or(str::is_empty) {
        return false;
    }
    match url.port() {
        Some(port) => allowed_ports.contains(&port),
        None => true,
    }
}

/// The body of `GET uri` as a stream; an error message when the host
/// cannot be reached or answers anything but 200.
pub async fn get(
    uri: &str,
) -> Result<impl Stream<Item = Result<Bytes, axum::Error>> + Unpin + Send + 'static, String> {
    let url = url::Url::parse(uri).map_err(|e| format!("invalid URL {uri}: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "cannot fetch {uri}: only plain http URLs can be downloaded by this server"
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| format!("invalid URL {uri}: no host"))?
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| format!("timed out connecting to {host}:{port}"))?
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake with {host}:{port} failed: {e}"))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "image download connection ended");
        }
    });
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let host_header = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let req = http::Request::get(path)
        .header(http::header::HOST, host_header)
        .header(http::header::USER_AGENT, "ferrostack-image-import")
        .body(Body::empty())
        .map_err(|e| format!("invalid request for {uri}: {e}"))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("GET {uri} failed: {e}"))?;
    if resp.status() != http::StatusCode::OK {
        return Err(format!("GET {uri} answered {}", resp.status()));
    }
    let body = Body::new(resp.into_body()).into_data_stream();
    // A remote side that stops sending ends the download (and the import
    // fails) instead of holding the image in `importing` for ever.
    Ok(Box::pin(futures_util::stream::unfold(
        body,
        |mut body| async move {
            match tokio::time::timeout(IDLE_TIMEOUT, body.next()).await {
                Ok(Some(item)) => Some((item, body)),
                Ok(None) => None,
                Err(_) => Some((
                    Err(axum::Error::new("the remote side sent nothing for 60 s")),
                    body,
                )),
            }
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn filter() {
        let ports = &[80, 443];
        assert!(allowed("http://example.com/a.img", ports));
        assert!(allowed("https://example.com:443/a.img", ports));
        assert!(!allowed("http://example.com:8080/a.img", ports));
        assert!(allowed("http://127.0.0.1:8080/a.img", &[8080]));
        assert!(!allowed("ftp://example.com/a.img", ports));
        assert!(!allowed("file:///etc/passwd", ports));
        assert!(!allowed("not a url", ports));
        assert!(!allowed("", ports));
    }
}
