//! `/servers/{id}/os-server-password`: the encrypted admin password a guest
//! posted to the metadata service (`openstack/<version>/password`); the
//! empty string when none. Clearing it lets the guest post one again.

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
    let i = load_server(&svc, &c, last(&p)).await?;
    let password = crate::store::instances::password(svc.db(), &i.id).await?;
    Ok(ok(json!({"password": password.unwrap_or_default()})))
}

pub async fn clear_password(
    State(svc): State<ComputeService>,
    c: Caller,
    Path(p): Path<Vec<String>>,
) -> Result<Response> {
    require_member(&c)?;
    let i = load_server(&svc, &c, last(&p)).await?;
    crate::store::instances::clear_password(svc.db(), &i.id).await?;
    Ok(no_content())
}
