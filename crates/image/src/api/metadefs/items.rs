//! What objects, properties and tags of a namespace have in common: they
//! are named items of one kind, read by anyone who sees the namespace and
//! created, renamed, replaced and deleted by an admin.

use axum::response::Response;
use ferro_api::time::now_micros;

use super::{conflict_or, load, load_for_change};
use crate::api::common::{no_content, Ctx};
use crate::error::{Error, Result};
use crate::metadef::Item;
use crate::store::metadefs;
use crate::ImageService;

/// One kind of item: its store key (`object`, `property`, `tag`, also the
/// word Glance's messages use), its plural and the longest name it takes.
pub struct Kind {
    pub key: &'static str,
    pub plural: &'static str,
    pub max_name: usize,
}

impl Kind {
    pub fn missing(&self, namespace: &str, name: &str) -> Error {
        Error::not_found(format!(
            "Metadata definition {} {name} was not found in namespace {namespace}.",
            self.key
        ))
    }

    pub fn taken(&self, namespace: &str, name: &str) -> Error {
        Error::conflict(format!(
            "A metadata definition {} named {name} already exists in namespace {namespace}.",
            self.key
        ))
    }

    /// A write that hit an existing name: 409.
    fn clash(&self, name: &str) -> impl FnOnce(ferro_store::sqlx::Error) -> Error {
        let msg = format!("{} {name} already exists", capitalized(self.key));
        move |e| conflict_or(e, msg)
    }

    /// The items of a namespace the caller sees.
    pub async fn list(&self, svc: &ImageService, ctx: &Ctx, namespace: &str) -> Result<Vec<Item>> {
        load(svc, ctx, namespace).await?;
        Ok(metadefs::items(svc.db(), namespace, self.key).await?)
    }

    /// One item of a namespace the caller sees.
    pub async fn show(
        &self,
        svc: &ImageService,
        ctx: &Ctx,
        namespace: &str,
        name: &str,
    ) -> Result<Item> {
        load(svc, ctx, namespace).await?;
        metadefs::item(svc.db(), namespace, self.key, name)
            .await?
            .ok_or_else(|| self.missing(namespace, name))
    }

    /// Add `item` (made once the caller may change the namespace); 409 when
    /// its name is taken.
    pub async fn create(
        &self,
        svc: &ImageService,
        ctx: &Ctx,
        namespace: &str,
        item: impl FnOnce(i64) -> Result<Item>,
    ) -> Result<Item> {
        load_for_change(svc, ctx, namespace).await?;
        let item = item(now_micros())?;
        if metadefs::item(svc.db(), namespace, self.key, &item.name)
            .await?
            .is_some()
        {
            return Err(self.taken(namespace, &item.name));
        }
        metadefs::insert_item(svc.db(), namespace, self.key, &item)
            .await
            .map_err(self.clash(&item.name))?;
        Ok(item)
    }

    /// Replace item `name` by what `new` makes of it (a new name renames it).
    pub async fn update(
        &self,
        svc: &ImageService,
        ctx: &Ctx,
        namespace: &str,
        name: &str,
        new: impl FnOnce(&Item) -> Result<Item>,
    ) -> Result<Item> {
        load_for_change(svc, ctx, namespace).await?;
        let old = metadefs::item(svc.db(), namespace, self.key, name)
            .await?
            .ok_or_else(|| self.missing(namespace, name))?;
        let item = Item {
            created_at: old.created_at,
            updated_at: now_micros(),
            ..new(&old)?
        };
        if item.name != name
            && metadefs::item(svc.db(), namespace, self.key, &item.name)
                .await?
                .is_some()
        {
            return Err(self.taken(namespace, &item.name));
        }
        if !metadefs::update_item(svc.db(), namespace, self.key, name, &item)
            .await
            .map_err(self.clash(&item.name))?
        {
            return Err(self.missing(namespace, name));
        }
        Ok(item)
    }

    pub async fn delete(
        &self,
        svc: &ImageService,
        ctx: &Ctx,
        namespace: &str,
        name: &str,
    ) -> Result<Response> {
        load_for_change(svc, ctx, namespace).await?;
        if metadefs::delete_items(svc.db(), namespace, self.key, Some(name)).await? == 0 {
            return Err(self.missing(namespace, name));
        }
        Ok(no_content())
    }

    /// Delete all the namespace's items of this kind (not of a protected one).
    pub async fn delete_all(
        &self,
        svc: &ImageService,
        ctx: &Ctx,
        namespace: &str,
    ) -> Result<Response> {
        let ns = load_for_change(svc, ctx, namespace).await?;
        if ns.protected {
            return Err(Error::forbidden(format!(
                "Namespace {namespace} is protected: its {} cannot be deleted.",
                self.plural
            )));
        }
        metadefs::delete_items(svc.db(), namespace, self.key, None).await?;
        Ok(no_content())
    }
}

fn capitalized(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
