//! `/servers/{id}/os-instance-actions` as at 2.1 (events for admins only),
//! the recording of actions by the handlers, and `X-Compute-Request-Id`.

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use ferro_api::request_id::{new_request_id, RequestId};
use ferro_api::time::{iso_naive_micros, now_micros};
use ferro_api::AuthContext;
use http::request::Parts;
use http::HeaderValue;
use serde_json::{json, Value};

use super::common::{load_server, ok, Caller};
use super::flavors::last;
use crate::error::{Error, Result};
use crate::store::instance_actions::{self, InstanceAction};
use crate::ComputeService;

/// The request id of the current request (`X-Openstack-Request-Id`).
pub struct ReqId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ReqId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _s: &S) -> Result<Self, Self::Rejection> {
        Ok(ReqId(
            parts
                .extensions
                .get::<RequestId>()
                .map(|r| r.0.clone())
                .unwrap_or_else(new_request_id),
        ))
    }
}

/// Middleware: Nova's `X-Compute-Request-Id`, the same id as
/// `X-Openstack-Request-Id`, on every response.
pub async fn compute_request_id(req: Request, next: Next) -> Response {
    let id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let mut resp = next.run(req).await;
    if let Some(v) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        resp.headers_mut().insert("x-compute-request-id", v);
    }
    resp
}

/// Record that `action` was asked of a server. Actions the API carries out
/// itself get their (finished) event at once; the worker adds the event of
/// the ones it runs.
pub async fn record(
    svc: &ComputeService,
    ctx: &AuthContext,
    instance_id: &str,
    action: &str,
    req: &ReqId,
    synchronous: bool,
) -> Result<()> {
    let a = InstanceAction {
        id: uuid::Uuid::new_v4().to_string(),
        instance_id: instance_id.to_owned(),
        action: action.to_owned(),
        request_id: req.0.clone(),
        user_id: ctx.user_id.clone(),
        project_id: ctx.project_id.clone().unwrap_or_default(),
        message: None,
        start_time: now_micros(),
    };
    instance_actions::create(svc.db(), &a).await?;
    if synchronous {
        let event = format!("compute_{action}");
        instance_actions::add_event(svc.db(), &a.id, &event, a.start_time, None).await?;
    }
    Ok(())
}

fn render(a: &InstanceAction) -> Value {
    json!({
        "action": a.action,
        "instance_uuid": a.instance_id,
        "message": a.message,
        "project_id": a.project_id,
        "request_id": a.request_id,
        "start_time": iso_naive_micros(a.start_time),
        "user_id": a.user_id,
    })
}

pub async fn list_actions(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let i = load_server(&svc, &c, last(&p)).await?;
    let items: Vec<Value> = instance_actions::list(svc.db(), &i.id)
        .await?
        .iter()
        .map(render)
        .collect();
    Ok(ok(json!({ "instanceActions": items })))
}

pub async fn show_action(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let n = p.len();
    let sid = p.get(n.wrapping_sub(2)).cloned().unwrap_or_default();
    let rid = last(&p);
    let i = load_server(&svc, &c, &sid).await?;
    let a = instance_actions::by_request(svc.db(), &i.id, rid)
        .await?
        .ok_or_else(|| {
            Error::not_found(format!(
                "Action for request_id {rid} on instance {} not found",
                i.id
            ))
        })?;
    let mut body = render(&a);
    // At 2.1 only admins see the events (and their tracebacks).
    if c.is_admin() {
        let events: Vec<Value> = instance_actions::events(svc.db(), &a.id)
            .await?
            .iter()
            .map(|e| {
                json!({
                    "event": e.event,
                    "start_time": iso_naive_micros(e.start_time),
                    "finish_time": e.finish_time.map(iso_naive_micros),
                    "result": e.result,
                    "traceback": e.traceback,
                })
            })
            .collect();
        body["events"] = Value::Array(events);
    }
    Ok(ok(json!({ "instanceAction": body })))
}
