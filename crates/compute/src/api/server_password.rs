//! `/servers/{id}/os-server-password`: the encrypted admin password a guest
//! posted to the metadata service. No guest here posts one, so it reads as
//! the empty string and clearing it is a no-op.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use super::common::{load_server, no_content, ok, require_member, Caller};
use super::flavors::last;
use crate::error::Result;
use crate::ComputeService;

pub async fn show_password(
    State(svc): State<ComputeService>,
    v: crate::microversion::ApiVersion,
    c: Caller,
    q: super::common::QueryParams,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    super::listing::no_query_from_2_102(v, &q)?;
    load_server(&svc, &c, last(&p)).await?;
    Ok(ok(json!({"password": ""})))
}

pub async fn clear_password(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_member(&c)?;
    load_server(&svc, &c, last(&p)).await?;
    Ok(no_content())
}
