//! The caller of a non-identity service: `X-Auth-Token` validated through
//! the identity service's [`TokenValidator`], rejected in the service's own
//! error format.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::response::IntoResponse;
use http::request::Parts;

use crate::{AuthContext, CommonError, TokenValidator};

/// Service state that can validate tokens.
pub trait HasValidator {
    fn validator(&self) -> &Arc<dyn TokenValidator>;
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
        Ok(Caller {
            ctx,
            _e: PhantomData,
        })
    }
}
