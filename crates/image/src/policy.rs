//! Who may see and change an image (upstream's default policy).

use ferro_api::AuthContext;

use crate::error::{Error, Result};
use crate::model::Image;

/// Whether the caller owns the image (its project is the owner).
pub fn owns(ctx: &AuthContext, img: &Image) -> bool {
    ctx.project_id.is_some() && img.owner == ctx.project_id
}

/// Whether the caller may see the image at all. `membership` is the
/// caller's member status on it, if any.
pub fn can_see(ctx: &AuthContext, img: &Image, membership: Option<&str>) -> bool {
    ctx.is_admin()
        || owns(ctx, img)
        || matches!(img.visibility.as_str(), "public" | "community")
        || (img.visibility == "shared" && membership.is_some())
}

/// The caller may create and change resources (member or admin; a reader
/// may only read).
pub fn require_writer(ctx: &AuthContext) -> Result<()> {
    if ctx.is_admin() || ctx.has_role("member") {
        Ok(())
    } else {
        Err(Error::forbidden(
            "You are not authorized to complete this action: a member role is required.",
        ))
    }
}

/// The caller may change or delete this (visible) image.
pub fn require_modify(ctx: &AuthContext, img: &Image) -> Result<()> {
    require_writer(ctx)?;
    if ctx.is_admin() || owns(ctx, img) {
        Ok(())
    } else {
        Err(Error::forbidden(format!(
            "You are not permitted to modify image {}.",
            img.id
        )))
    }
}

/// Only an admin may do `what` (Glance's admin-only rules, such as
/// `copy_image` and the tasks API).
pub fn require_admin(ctx: &AuthContext, what: &str) -> Result<()> {
    if ctx.is_admin() {
        Ok(())
    } else {
        Err(Error::forbidden(format!(
            "You are not authorized to {what}: an admin role is required."
        )))
    }
}
