//! One request to the metadata service, answered as Nova's metadata
//! handler does: `/` to anyone; the rest only to a known guest (else 404);
//! `password` read with GET and set once with POST (409 after that).
//! Errors are webob's pages (status line and explanation).

use axum::body::{Body, Bytes};
use axum::http::{header, Method, StatusCode};
use axum::response::Response;

use super::tree::{self, Answer, TEXT};
use super::Source;
use crate::store::instances;
use crate::ComputeService;

/// Nova's limit on a posted password (4 chunks of 255 characters).
const MAX_PASSWORD: usize = 4 * 255;

/// A request as the metadata service received it.
#[derive(Clone, Debug, Default)]
pub struct MetadataRequest {
    /// The server whose port has the source address on the networks the
    /// request came from, and the port's project; `None`: nobody known.
    pub requester: Option<(String, String)>,
    /// The source address.
    pub address: String,
    pub method: Method,
    pub path: String,
    pub accept: Option<String>,
    pub body: Bytes,
}

fn respond(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// webob's error page: HTML when the client takes it (`*/*` too), else
/// plain text.
fn error(status: StatusCode, explanation: &str, accept: Option<&str>) -> Response {
    let line = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let html = accept.is_none_or(|a| a.contains("html") || a.contains("*/*"));
    if html {
        let body = format!(
            "<html>\n <head>\n  <title>{line}</title>\n </head>\n <body>\n  <h1>{line}</h1>\n  {explanation}<br /><br />\n\n\n\n </body>\n</html>"
        );
        respond(status, "text/html; charset=UTF-8", body)
    } else {
        respond(status, TEXT, format!("{line}\n\n{explanation}\n\n"))
    }
}

fn not_found(accept: Option<&str>) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "The resource could not be found.",
        accept,
    )
}

fn today() -> String {
    let now = ferro_api::time::iso_seconds(ferro_api::time::now_micros());
    now.chars().take(10).collect()
}

impl ComputeService {
    /// The metadata service's answer to `req`.
    pub async fn metadata_response(&self, req: MetadataRequest) -> Response {
        let accept = req.accept.as_deref();
        let path = tree::normalize(&req.path);
        if path == "/" {
            return respond(StatusCode::OK, TEXT, tree::ec2_versions());
        }
        let Some((server_id, project_id)) = &req.requester else {
            tracing::info!(address = %req.address, "metadata: no guest has this address");
            return not_found(accept);
        };
        let instance = match instances::get(self.db(), server_id).await {
            Ok(Some(i)) if &i.project_id == project_id => i,
            Ok(_) => return not_found(accept),
            Err(e) => return self.metadata_failure(&e.to_string(), accept),
        };
        let mut src = match Source::read(self, &instance).await {
            Ok(s) => s,
            Err(e) => return self.metadata_failure(&e, accept),
        };
        src.address = Some(req.address.clone());
        match tree::lookup(&src, &path, &today()) {
            Answer::Data { body, content_type } => respond(StatusCode::OK, content_type, body),
            Answer::NotFound => not_found(accept),
            Answer::Password => self.password(&src, &req).await,
        }
    }

    fn metadata_failure(&self, why: &str, accept: Option<&str>) -> Response {
        tracing::warn!(error = %why, "metadata: could not read the server");
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An unknown error has occurred. Please try your request again.",
            accept,
        )
    }

    /// `openstack/<version>/password`: GET reads it (empty when none),
    /// POST sets it once.
    async fn password(&self, src: &Source, req: &MetadataRequest) -> Response {
        let accept = req.accept.as_deref();
        let html = "text/html; charset=UTF-8";
        match req.method {
            Method::GET | Method::HEAD => respond(
                StatusCode::OK,
                html,
                src.password.clone().unwrap_or_default(),
            ),
            Method::POST => {
                let conflict = || {
                    error(
                        StatusCode::CONFLICT,
                        "There was a conflict when trying to complete your request.",
                        accept,
                    )
                };
                if src.password.is_some() {
                    return conflict();
                }
                if req.body.len() > MAX_PASSWORD {
                    return error(StatusCode::BAD_REQUEST, "Request is too large.", accept);
                }
                let Ok(password) = std::str::from_utf8(&req.body) else {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "The password is not UTF-8.",
                        accept,
                    );
                };
                match instances::set_password_once(self.db(), &src.instance.id, password).await {
                    Ok(true) => respond(StatusCode::OK, html, ""),
                    Ok(false) => conflict(),
                    Err(e) => self.metadata_failure(&e.to_string(), accept),
                }
            }
            _ => error(
                StatusCode::BAD_REQUEST,
                "GET and POST only are supported.",
                accept,
            ),
        }
    }
}
