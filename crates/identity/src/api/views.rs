//! Collection bodies serialised straight from the stored rows (no
//! intermediate `Value` per item), for the large unfiltered lists.

use axum::response::Response;
use http::header::{HeaderValue, CONTENT_TYPE};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::store::projects::Project;
use crate::store::users::User;
use crate::validate::Object;

/// A resource's extra attributes, minus the ones its fixed fields already
/// name (fixed fields win, as `with_extra`).
struct Extra<'a> {
    map: &'a Object,
    fixed: &'static [&'static str],
}

impl Serialize for Extra<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.map {
            if !self.fixed.contains(&k.as_str()) {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

#[derive(serde::Serialize)]
struct SelfLink {
    #[serde(rename = "self")]
    href: String,
}

#[derive(serde::Serialize)]
struct UserView<'a> {
    id: &'a str,
    name: &'a str,
    domain_id: &'a str,
    enabled: bool,
    password_expires_at: Option<String>,
    options: &'a Object,
    links: SelfLink,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_project_id: Option<&'a str>,
    #[serde(flatten)]
    extra: Extra<'a>,
}

const USER_FIXED: &[&str] = &[
    "id",
    "name",
    "domain_id",
    "enabled",
    "password_expires_at",
    "options",
    "links",
    "default_project_id",
];

#[derive(serde::Serialize)]
struct ProjectView<'a> {
    id: &'a str,
    name: &'a str,
    domain_id: &'a str,
    parent_id: Option<&'a str>,
    description: &'a str,
    enabled: bool,
    is_domain: bool,
    tags: &'a [String],
    options: &'a Object,
    links: SelfLink,
    #[serde(flatten)]
    extra: Extra<'a>,
}

/// `{key: [items], "links": {...}}` as Keystone lists, serialised directly.
#[derive(serde::Serialize)]
struct Collection<T> {
    #[serde(flatten)]
    items: Keyed<T>,
    links: Links,
}

struct Keyed<T> {
    key: &'static str,
    items: Vec<T>,
}

impl<T: Serialize> Serialize for Keyed<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.key, &self.items)?;
        m.end()
    }
}

#[derive(serde::Serialize)]
struct Links {
    #[serde(rename = "self")]
    href: String,
    previous: Option<()>,
    next: Option<()>,
}

fn respond<T: Serialize>(key: &'static str, items: Vec<T>, self_url: String) -> Response {
    let body = Collection {
        items: Keyed { key, items },
        links: Links {
            href: self_url,
            previous: None,
            next: None,
        },
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut resp = Response::new(axum::body::Body::from(bytes));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// `GET /v3/users` without filters.
pub fn users<'a>(
    list: impl Iterator<Item = &'a User>,
    enabled: impl Fn(&User) -> bool,
    link: impl Fn(&str) -> String,
    self_url: String,
) -> Response {
    let items: Vec<UserView> = list
        .map(|u| UserView {
            id: &u.id,
            name: &u.name,
            domain_id: &u.domain_id,
            enabled: enabled(u),
            password_expires_at: u.password_expires_at.map(ferro_api::time::iso_naive_micros),
            options: &u.options,
            links: SelfLink { href: link(&u.id) },
            default_project_id: u.default_project_id.as_deref(),
            extra: Extra {
                map: &u.extra,
                fixed: USER_FIXED,
            },
        })
        .collect();
    respond("users", items, self_url)
}

/// `GET /v3/projects` without attribute filters.
pub fn projects<'a>(
    list: impl Iterator<Item = &'a Project>,
    link: impl Fn(&str) -> String,
    self_url: String,
) -> Response {
    let items: Vec<ProjectView> = list
        .map(|p| ProjectView {
            id: &p.id,
            name: &p.name,
            domain_id: &p.domain_id,
            parent_id: p.parent_id.as_deref(),
            description: &p.description,
            enabled: p.enabled,
            is_domain: false,
            tags: &p.tags,
            options: &p.options,
            links: SelfLink { href: link(&p.id) },
            extra: Extra {
                map: &p.extra,
                fixed: super::projects::KNOWN,
            },
        })
        .collect();
    respond("projects", items, self_url)
}
