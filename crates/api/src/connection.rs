//! Keep-alive safety for requests whose body the handler never read.
//!
//! A handler may answer (say, 404 for `PUT /v2/images/<unknown>/file`) without
//! reading the request body. hyper then closes the connection after the
//! response, but without saying so, and a client that pools connections may
//! send its next request on the closed socket ("remote end closed
//! connection"). This middleware watches the request body and, when it was not
//! read to the end, marks the response `Connection: close` so clients open a
//! fresh connection instead.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::HeaderValue;
use http_body::{Frame, SizeHint};

/// A request body that records when it has been read to its end.
struct Tracked {
    inner: Body,
    done: Arc<AtomicBool>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.done.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether the request announces a body (a non-zero length or chunked).
fn has_body(req: &Request) -> bool {
    let headers = req.headers();
    if headers.contains_key(TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0)
}

/// Middleware: `Connection: close` on responses to requests whose body was
/// left unread.
pub async fn close_if_body_unread(req: Request, next: Next) -> Response {
    if !has_body(&req) {
        return next.run(req).await;
    }
    let done = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let tracked = Tracked {
        inner: body,
        done: done.clone(),
    };
    let req = Request::from_parts(parts, Body::new(tracked));
    let mut resp = next.run(req).await;
    if !done.load(Ordering::Relaxed) {
        resp.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}
