//! Paging and query checks shared by the non-server collections, as Nova's
//! `common.get_limit_and_marker` and `ViewBuilder._get_collection_links`.

use ferro_api::BaseUrl;
use serde_json::Value;

use super::common::{invalid, marker_not_found, next_link, query_get, QueryParams};
use crate::error::Result;

/// Nova's `[api] max_limit`.
pub const MAX_LIMIT: usize = 1000;

/// The page after `marker` of at most `limit` (capped at [`MAX_LIMIT`])
/// items, and the id for a `next` link: Nova links whenever the page is full.
pub fn page<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> String,
    q: &QueryParams,
) -> Result<(Vec<T>, Option<String>)> {
    let limit = match query_get(q, "limit") {
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| invalid("limit", &format!("{l:?} is not a non-negative integer")))?,
        None => MAX_LIMIT,
    }
    .min(MAX_LIMIT);
    let start = match query_get(q, "marker") {
        Some(m) => {
            items
                .iter()
                .position(|x| id(x) == m)
                .ok_or_else(|| marker_not_found(m))?
                + 1
        }
        None => 0,
    };
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = (limit > 0 && page.len() == limit)
        .then(|| page.last().map(&id))
        .flatten();
    Ok((page, next))
}

/// `{"<key>_links": [next]}` added to `out` when there is a next page.
pub fn add_links(
    out: &mut Value,
    key: &str,
    base: &BaseUrl,
    path: &str,
    q: &QueryParams,
    next: Option<String>,
) {
    if let Some(marker) = next {
        out[key] = next_link(base, path, q, &marker);
    }
}

/// From 2.75 Nova's query schemas forbid unknown parameters: a 400 naming
/// the first one not in `allowed`.
pub fn only_params(q: &QueryParams, allowed: &[&str]) -> Result<()> {
    match q.0.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        Some((k, _)) => Err(crate::error::Error::bad_request(format!(
            "Invalid input for query parameters {k}. Additional properties are not allowed ('{k}' was unexpected)"
        ))),
        None => Ok(()),
    }
}

/// Nova's `single_param`: each of `keys` at most once in the query.
pub fn single_params(q: &QueryParams, keys: &[&str]) -> Result<()> {
    for k in keys {
        if q.0.iter().filter(|(name, _)| name == k).count() > 1 {
            return Err(crate::error::Error::bad_request(format!(
                "Invalid input for query parameters {k}. Value: it is given more than once; \
                 it is not of type 'string'"
            )));
        }
    }
    Ok(())
}

/// 2.102: every API without query parameters of its own refuses any.
pub fn no_query_from_2_102(v: crate::microversion::ApiVersion, q: &QueryParams) -> Result<()> {
    if v.at_least(2, 102) {
        only_params(q, &[])?;
    }
    Ok(())
}
