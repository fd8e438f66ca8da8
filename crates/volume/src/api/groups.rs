//! Generic volume groups (3.13): what volume creation needs of them.

use super::common::Ctx;
use crate::error::{Error, Result};
use crate::store::groups;
use crate::VolumeService;

pub fn group_not_found(id: &str) -> Error {
    Error::not_found(format!("Group {id} could not be found."))
}

/// A volume created into group `id` must use one of the group's types.
pub async fn check_volume_type(
    svc: &VolumeService,
    ctx: &Ctx,
    id: &str,
    type_id: &str,
) -> Result<()> {
    let g = match groups::get(svc.db(), id).await? {
        Some(g) if ctx.sees(&g.project_id) => g,
        _ => return Err(group_not_found(id)),
    };
    if g.status != "available" {
        return Err(Error::bad_request(format!(
            "Invalid group: Group {id} status must be available, but current status is: {}.",
            g.status
        )));
    }
    if !g.volume_type_ids.iter().any(|t| t == type_id) {
        return Err(Error::bad_request(format!(
            "Invalid input received: Invalid volume_type provided: {type_id} (requested type is \
             not compatible; recommend omitting the type argument)."
        )));
    }
    Ok(())
}
