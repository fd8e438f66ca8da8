//! The caller of a non-identity service: `X-Auth-Token` validated through
//! the identity service's [`TokenValidator`], rejected in the service's own
//! error format.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OriginalUri};
use axum::response::IntoResponse;
use http::request::Parts;

use crate::{AuthContext, CommonError, Prefix, TokenValidator};

/// The request's path below the service's root (`/v2.1/servers` for
/// `/compute/v2.1/servers`), whatever routers it went through: what access
/// rules' path templates are matched against.
pub fn service_path(parts: &Parts) -> String {
    let full = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.path(), |u| u.0.path());
    let prefix = parts.extensions.get::<Prefix>().map_or("", |p| p.0);
    let below = full.strip_prefix(prefix).unwrap_or(full);
    if below.is_empty() {
        "/".to_owned()
    } else {
        below.to_owned()
    }
}

/// Service state that can validate tokens.
pub trait HasValidator {
    fn validator(&self) -> &Arc<dyn TokenValidator>;

    /// The service's catalog type and its aliases, which application
    /// credential access rules name (`compute`, `block-storage`, ...).
    fn service_types(&self) -> &'static [&'static str];
}

/// A validated caller; the rejection is the service's error `E` (401).
pub struct Caller<E> {
    pub ctx: AuthContext,
    _e: PhantomData<E>,
}

impl<E> std::ops::Deref for Caller<E> {
    type Target = AuthContext;
    fn deref(&self) -> &AuthContext {
        &self.ctx
    }
}

impl<S, E> FromRequestParts<S> for Caller<E>
where
    S: HasValidator + Send + Sync,
    E: From<CommonError> + IntoResponse + Send + Sync + 'static,
{
    type Rejection = E;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, E> {
        let unauthorized = || E::from(CommonError::Unauthorized("Authentication required".into()));
        let token = parts
            .headers
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorized)?;
        let ctx = state
            .validator()
            .validate(token)
            .await
            .ok_or_else(unauthorized)?;
        // A token from an application credential with access rules may only
        // make the requests they allow (keystonemiddleware's check).
        // (A call from another service in process is not: see `loopback::Internal`.)
        let path = service_path(parts);
        let internal = parts
            .extensions
            .get::<crate::loopback::Internal>()
            .is_some();
        if !internal && !ctx.allows_request(state.service_types(), parts.method.as_str(), &path) {
            return Err(unauthorized());
        }
        Ok(Caller {
            ctx,
            _e: PhantomData,
        })
    }
}
