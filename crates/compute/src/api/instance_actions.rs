//! `/servers/{id}/os-instance-actions`, the recording of actions by the
//! handlers, and `X-Compute-Request-Id`.
//!
//! Per microversion, as Nova: 2.21 the actions of deleted servers can be
//! read; 2.51 the owner sees the events too (without `traceback`); 2.58
//! `updated_at`, `limit`/`marker` (a request id) with `links`, the
//! `changes-since` filter and strict query parameters; 2.62 `hostId` in
//! events (and `host` for admins); 2.66 `changes-before`; 2.84 `details`
//! in events for admins.

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use ferro_api::request_id::{new_request_id, RequestId};
use ferro_api::time::{iso_naive_micros, now_micros};
use ferro_api::AuthContext;
use http::request::Parts;
use http::HeaderValue;
use serde_json::{json, Value};

use ferro_api::time::parse_iso;
use ferro_api::BaseUrl;
use sha2::{Digest, Sha224};

use super::common::{invalid, load_server, ok, query_get, Caller, QueryParams};
use super::flavors::last;
use super::listing;
use crate::error::{Error, Result};
use crate::microversion::ApiVersion;
use crate::store::instance_actions::{self, ActionEvent, InstanceAction, TimedAction};
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
    let now = now_micros();
    let a = InstanceAction {
        id: uuid::Uuid::new_v4().to_string(),
        instance_id: instance_id.to_owned(),
        action: action.to_owned(),
        request_id: req.0.clone(),
        user_id: ctx.user_id.clone(),
        project_id: ctx.project_id.clone().unwrap_or_default(),
        message: None,
        start_time: now,
    };
    instance_actions::create(svc.db(), &a).await?;
    if synchronous {
        let event = format!("compute_{action}");
        let host = &svc.config().host;
        instance_actions::add_event_on(svc.db(), &a.id, &event, a.start_time, None, Some(host))
            .await?;
    }
    Ok(())
}

fn render(t: &TimedAction, v: ApiVersion) -> Value {
    let a = &t.action;
    let mut o = json!({
        "action": a.action,
        "instance_uuid": a.instance_id,
        "message": a.message,
        "project_id": a.project_id,
        "request_id": a.request_id,
        "start_time": iso_naive_micros(a.start_time),
        "user_id": a.user_id,
    });
    if v.at_least(2, 58) {
        o["updated_at"] = json!(iso_naive_micros(t.updated_at));
    }
    o
}

/// The server whose actions are asked for: from 2.21 a deleted one too;
/// the caller's project's, or any for admins; else 404.
async fn server_project(
    svc: &ComputeService,
    ctx: &AuthContext,
    v: ApiVersion,
    id: &str,
) -> Result<String> {
    let not_found = || Error::not_found(format!("Instance {id} could not be found."));
    let project = if v.at_least(2, 21) {
        instance_actions::instance_project(svc.db(), id)
            .await?
            .ok_or_else(not_found)?
    } else {
        load_server(svc, ctx, id).await?.project_id
    };
    if !ctx.is_admin() && ctx.project_id.as_deref() != Some(project.as_str()) {
        return Err(not_found());
    }
    Ok(project)
}

fn time_param(q: &QueryParams, key: &str) -> Result<Option<i64>> {
    query_get(q, key)
        .map(|s| parse_iso(s).ok_or_else(|| invalid(key, &format!("'{s}' is not a 'date-time'"))))
        .transpose()
}

/// The 2.58 filters: `changes-since` and (2.66) `changes-before` on
/// `updated_at`.
fn filter_actions(
    v: ApiVersion,
    q: &QueryParams,
    mut all: Vec<TimedAction>,
) -> Result<Vec<TimedAction>> {
    let mut allowed = vec!["limit", "marker", "changes-since"];
    if v.at_least(2, 66) {
        allowed.push("changes-before");
    }
    listing::only_params(q, &allowed)?;
    let since = time_param(q, "changes-since")?;
    let before = if v.at_least(2, 66) {
        time_param(q, "changes-before")?
    } else {
        None
    };
    if let (Some(s), Some(b)) = (since, before) {
        if b < s {
            return Err(Error::bad_request(
                "The value of changes-since must be less than or equal to changes-before.",
            ));
        }
    }
    all.retain(|a| {
        since.is_none_or(|s| a.updated_at >= s) && before.is_none_or(|b| a.updated_at <= b)
    });
    Ok(all)
}

pub async fn list_actions(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    base: BaseUrl,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    let sid = last(&p).to_owned();
    server_project(&svc, &c, v, &sid).await?;
    let all = instance_actions::list_timed(svc.db(), &sid).await?;
    let (page, next) = if v.at_least(2, 58) {
        let kept = filter_actions(v, &q, all)?;
        listing::page(kept, |t| t.action.request_id.clone(), &q)?
    } else {
        (all, None)
    };
    let items: Vec<Value> = page.iter().map(|a| render(a, v)).collect();
    let mut out = json!({ "instanceActions": items });
    let path = format!("servers/{sid}/os-instance-actions");
    listing::add_links(&mut out, "links", &base, &path, &q, next);
    Ok(ok(out))
}

/// Nova's `hostId`: SHA-224 of the project and the host, or "" without one.
fn host_id(project: &str, host: Option<&str>) -> String {
    match host {
        Some(h) if !h.is_empty() => {
            let digest = Sha224::digest(format!("{project}{h}").as_bytes());
            digest.iter().map(|b| format!("{b:02x}")).collect()
        }
        _ => String::new(),
    }
}

fn render_event(e: &ActionEvent, v: ApiVersion, admin: bool, project: &str) -> Value {
    let mut o = json!({
        "event": e.event,
        "start_time": iso_naive_micros(e.start_time),
        "finish_time": e.finish_time.map(iso_naive_micros),
        "result": e.result,
    });
    if admin {
        o["traceback"] = json!(e.traceback);
        if v.at_least(2, 62) {
            o["host"] = json!(e.host.clone().unwrap_or_default());
        }
    }
    if v.at_least(2, 62) {
        o["hostId"] = json!(host_id(project, e.host.as_deref()));
    }
    // 2.84: the failure's message, for admins (Nova's events:details).
    if v.at_least(2, 84) && admin {
        o["details"] = json!(e.traceback);
    }
    o
}

pub async fn show_action(
    State(svc): State<ComputeService>,
    v: ApiVersion,
    c: Caller,
    q: QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    if v.at_least(2, 102) {
        listing::only_params(&q, &[])?;
    }
    let n = p.len();
    let sid = p.get(n.wrapping_sub(2)).cloned().unwrap_or_default();
    let rid = last(&p);
    let project = server_project(&svc, &c, v, &sid).await?;
    let a = instance_actions::by_request_timed(svc.db(), &sid, rid)
        .await?
        .ok_or_else(|| Error::not_found(format!("Action {rid} not found")))?;
    let mut body = render(&a, v);
    // Before 2.51 only admins see the events; from 2.51 the owner sees
    // them too, without the traceback.
    if c.is_admin() || v.at_least(2, 51) {
        let events: Vec<Value> = instance_actions::events(svc.db(), &a.action.id)
            .await?
            .iter()
            .map(|e| render_event(e, v, c.is_admin(), &project))
            .collect();
        body["events"] = Value::Array(events);
    }
    Ok(ok(json!({ "instanceAction": body })))
}
