//! `GET` / `DELETE /v2.0/auto-allocated-topology/{project_id}`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{ctx, Caller};
use crate::error::{Error, Result};
use crate::logic::auto_allocate as auto;
use crate::query::ListQuery;
use crate::NetworkService;

/// `fields=dry-run` asks whether a topology could be made, without making it.
const DRY_RUN: &str = "dry-run";

fn target(caller: &Caller, project_id: &str) -> Result<String> {
    let project_id = project_id.strip_suffix(".json").unwrap_or(project_id);
    auto::project(&ctx(caller), project_id)
}

pub async fn show(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(project_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let project = target(&caller, &project_id)?;
    let fields = ListQuery::parse(raw.as_deref()).fields();
    let id = if fields.iter().any(|f| f == DRY_RUN) {
        auto::default_external(&*svc.read().await?)?;
        "dry-run=pass".to_owned()
    } else if !fields.is_empty() {
        return Err(Error::bad(
            "BadRequest",
            "Bad auto_allocate request: Unrecognized field.",
        ));
    } else {
        let existing = auto::network_of(&*svc.read().await?, &project);
        match existing {
            Some(id) => id,
            None => svc.write(|st| auto::get_or_create(st, &project)).await?,
        }
    };
    Ok(Json(
        json!({"auto_allocated_topology": auto::view(&id, &project)}),
    ))
}

pub async fn delete(
    State(svc): State<NetworkService>,
    caller: Caller,
    Path(project_id): Path<String>,
) -> Result<StatusCode> {
    let project = target(&caller, &project_id)?;
    let ctx = ctx(&caller);
    svc.write(|st| {
        // Neutron fetches (so builds) the topology before deleting it: without
        // one, a missing default external network is its 409.
        if auto::network_of(st, &project).is_none() {
            auto::default_external(st)?;
        }
        ctx.can_write("delete_auto_allocated_topology")?;
        auto::delete(st, &project)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
