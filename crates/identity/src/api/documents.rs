//! Resources that are plain documents: `/v3/policies`, the OAuth1 consumer
//! registry (`/v3/OS-OAUTH1/consumers`) and endpoint groups
//! (`/v3/OS-EP-FILTER/endpoint_groups`). Create/list/show/update/delete,
//! admin to write, readers to read.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use ferro_api::time::now_micros;
use ferro_api::BaseUrl;
use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::common::{collection, created, no_content, ok, Body, Ctx, Filters, QueryParams};
use crate::error::{Error, Result};
use crate::store::{documents, new_id};
use crate::validate::{self as v, Object};
use crate::{policy, Identity};

/// One document resource.
#[derive(Clone, Copy)]
struct Kind {
    /// Storage kind and the singular body key (`policy`).
    member: &'static str,
    /// The collection key (`policies`).
    collection: &'static str,
    /// URL path of the collection.
    path: &'static str,
    /// Checks a create (`true`) or update (`false`) body.
    check: fn(&Object, bool) -> Result<()>,
    /// Filterable attributes.
    filters: &'static [&'static str],
    /// Whether create returns a generated `secret` (OAuth1 consumers).
    secret: bool,
    /// Whether the body may hold nothing but the member (Keystone's newer
    /// schemas; policies and consumers are still checked inside only).
    strict_top: bool,
}

const KINDS: &[Kind] = &[
    Kind {
        member: "policy",
        collection: "policies",
        path: "/v3/policies",
        check: check_policy,
        filters: &["type"],
        secret: false,
        strict_top: false,
    },
    Kind {
        member: "consumer",
        collection: "consumers",
        path: "/v3/OS-OAUTH1/consumers",
        check: check_consumer,
        filters: &[],
        secret: true,
        strict_top: false,
    },
    Kind {
        member: "endpoint_group",
        collection: "endpoint_groups",
        path: "/v3/OS-EP-FILTER/endpoint_groups",
        check: check_endpoint_group,
        filters: &["name"],
        secret: false,
        strict_top: true,
    },
];

pub fn routes() -> Router<Identity> {
    let mut r = Router::new();
    for k in KINDS {
        let k = *k;
        r = r
            .route(
                k.path,
                get(move |s, c, b, q| list(s, c, b, q, k))
                    .post(move |s, c, b, body| create(s, c, b, body, k)),
            )
            .route(
                &format!("{}/{{id}}", k.path),
                get(move |s, c, b, m, p| show(s, c, b, m, p, k))
                    .patch(move |s, c, b, p, body| update(s, c, b, p, body, k))
                    .delete(move |s, c, p| delete(s, c, p, k)),
            );
    }
    r
}

fn check_policy(o: &Object, create: bool) -> Result<()> {
    if create {
        v::req_str(o, "blob", 65535)?;
        v::req_str(o, "type", 255)?;
    } else {
        v::opt_strict_str(o, "blob", 65535)?;
        v::opt_strict_str(o, "type", 255)?;
    }
    Ok(())
}

fn check_consumer(o: &Object, _create: bool) -> Result<()> {
    v::opt_str(o, "description", 65535)?;
    if o.contains_key("secret") {
        return Err(Error::bad_request(
            "Invalid input for field 'secret': cannot be set",
        ));
    }
    Ok(())
}

/// Keystone's endpoint group schema: no fields but these, and filters on
/// the endpoint attributes an endpoint group can select by.
fn check_endpoint_group(o: &Object, create: bool) -> Result<()> {
    if let Some(k) = o
        .keys()
        .find(|k| !["name", "description", "filters", "id", "links"].contains(&k.as_str()))
    {
        return Err(Error::bad_request(format!(
            "Invalid input for field 'endpoint_group': additional properties are not allowed \
             ('{k}' was unexpected)"
        )));
    }
    if create {
        v::req_str(o, "name", 255)?;
        if !o.contains_key("filters") {
            return Err(Error::bad_request(
                "Invalid input for field 'filters': is a required property",
            ));
        }
    } else {
        v::opt_strict_str(o, "name", 255)?;
    }
    v::opt_str(o, "description", 65535)?;
    if let Some(f) = v::opt_strict_object(o, "filters")? {
        for (key, value) in &f {
            let fine = match key.as_str() {
                "interface" => value
                    .as_str()
                    .is_some_and(|i| ["admin", "internal", "public"].contains(&i)),
                "service_id" => value.is_string(),
                "region_id" => value.is_string() || value.is_null(),
                _ => {
                    return Err(Error::bad_request(format!(
                        "Invalid input for field 'filters': unknown filter {key:?} (one of \
                         service_id, region_id, interface)"
                    )))
                }
            };
            if !fine {
                return Err(Error::bad_request(format!(
                    "Invalid input for field 'filters.{key}': {value} is not valid"
                )));
            }
        }
    }
    Ok(())
}

fn render(k: Kind, id: &str, body: &Object, base: &BaseUrl) -> Value {
    let mut body = body.clone();
    // A consumer's secret is kept (requests are signed with it) but shown
    // only once, on create.
    if k.secret {
        body.remove("secret");
    }
    let mut out = Value::Object(body);
    out["id"] = json!(id);
    out["links"] = json!({"self": base.join(&format!("{}/{id}", k.path))});
    out
}

async fn load(id: &Identity, k: Kind, doc_id: &str) -> Result<Object> {
    documents::get(id.db(), k.member, doc_id)
        .await?
        .ok_or_else(|| Error::no_such(k.member, doc_id))
}

async fn list(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    q: QueryParams,
    k: Kind,
) -> Result<Response> {
    policy::reader(&ctx, &format!("identity:list_{}", k.collection))?;
    let items = documents::list(id.db(), k.member)
        .await?
        .iter()
        .map(|(i, b)| render(k, i, b, &base))
        .collect();
    let items = Filters::new(&q).apply(items, k.filters);
    Ok(collection(k.collection, items, &base.join(k.path)))
}

async fn show(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    method: Method,
    Path(doc_id): Path<String>,
    k: Kind,
) -> Result<Response> {
    policy::reader(&ctx, &format!("identity:get_{}", k.member))?;
    let body = load(&id, k, &doc_id).await?;
    if method == Method::HEAD {
        return Ok(StatusCode::OK.into_response());
    }
    Ok(ok(json!({ k.member: render(k, &doc_id, &body, &base) })))
}

async fn create(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    body: Body,
    k: Kind,
) -> Result<Response> {
    policy::admin(&ctx, &format!("identity:create_{}", k.member))?;
    let body = body.object()?;
    // As Keystone: a consumer may be made from a body without "consumer".
    let mut doc = if k.secret && !body.contains_key(k.member) {
        Object::new()
    } else {
        v::wrapped_only_if(&body, k.member, k.strict_top)?
    };
    (k.check)(&doc, true)?;
    doc.remove("id");
    doc.remove("links");
    let doc_id = new_id();
    let secret = new_id();
    let mut stored = doc.clone();
    if k.secret {
        stored.insert("secret".into(), json!(secret));
    }
    documents::create(id.db(), k.member, &doc_id, &stored, now_micros()).await?;
    let mut out = render(k, &doc_id, &doc, &base);
    if k.secret {
        out["secret"] = json!(secret);
    }
    Ok(created(json!({ k.member: out })))
}

async fn update(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    base: BaseUrl,
    Path(doc_id): Path<String>,
    body: Body,
    k: Kind,
) -> Result<Response> {
    policy::admin(&ctx, &format!("identity:update_{}", k.member))?;
    let body = body.object()?;
    let patch = v::wrapped_update(&body, k.member)?;
    v::wrapped_only_if(&body, k.member, k.strict_top)?;
    (k.check)(&patch, false)?;
    if patch
        .get("id")
        .is_some_and(|x| x.as_str() != Some(doc_id.as_str()))
    {
        return Err(Error::bad_request(
            "Invalid input for field 'id': cannot be updated",
        ));
    }
    let mut doc = load(&id, k, &doc_id).await?;
    for (key, val) in patch {
        if key != "id" && key != "links" {
            doc.insert(key, val);
        }
    }
    documents::update(id.db(), k.member, &doc_id, &doc).await?;
    Ok(ok(json!({ k.member: render(k, &doc_id, &doc, &base) })))
}

async fn delete(
    State(id): State<Identity>,
    Ctx(ctx): Ctx,
    Path(doc_id): Path<String>,
    k: Kind,
) -> Result<Response> {
    policy::admin(&ctx, &format!("identity:delete_{}", k.member))?;
    if !documents::delete(id.db(), k.member, &doc_id).await? {
        return Err(Error::no_such(k.member, &doc_id));
    }
    if k.secret {
        // Its request and access tokens go, and so every token issued
        // from them stops validating.
        crate::store::oauth1::delete_for_consumer(id.db(), &doc_id).await?;
    }
    Ok(no_content())
}
