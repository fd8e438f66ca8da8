//! The metadata definitions catalog: `image_md_namespace`,
//! `image_md_resource_type`, `image_md_association` and `image_md_item`
//! (objects, properties and tags of a namespace, each a JSON body).

use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, opt_text, text, Db};
use crate::metadef::{Association, Item, Namespace, ResourceType};

const NS_COLUMNS: &str =
    "namespace, display_name, description, visibility, protected, owner, created_at, updated_at";

fn namespace_from(r: &AnyRow) -> Namespace {
    Namespace {
        namespace: text(r, "namespace"),
        display_name: opt_text(r, "display_name"),
        description: opt_text(r, "description"),
        visibility: text(r, "visibility"),
        protected: int(r, "protected") != 0,
        owner: opt_text(r, "owner"),
        created_at: int(r, "created_at"),
        updated_at: int(r, "updated_at"),
    }
}

fn item_from(r: &AnyRow) -> Item {
    Item {
        name: text(r, "name"),
        body: serde_json::from_str(&text(r, "body")).unwrap_or_default(),
        created_at: int(r, "created_at"),
        updated_at: int(r, "updated_at"),
    }
}

fn association_from(r: &AnyRow) -> Association {
    Association {
        name: text(r, "resource_type"),
        prefix: opt_text(r, "prefix"),
        properties_target: opt_text(r, "properties_target"),
        created_at: int(r, "created_at"),
        updated_at: int(r, "updated_at"),
    }
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

pub async fn namespaces(db: &Db) -> sqlx::Result<Vec<Namespace>> {
    let rows = sqlx::query(&format!("SELECT {NS_COLUMNS} FROM image_md_namespace"))
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(namespace_from).collect())
}

pub async fn namespace(db: &Db, name: &str) -> sqlx::Result<Option<Namespace>> {
    let row = sqlx::query(&format!(
        "SELECT {NS_COLUMNS} FROM image_md_namespace WHERE namespace=$1"
    ))
    .bind(name)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(namespace_from))
}

async fn insert_namespace_tx(tx: &mut Tx<'_>, ns: &Namespace) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO image_md_namespace ({NS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(&ns.namespace)
    .bind(&ns.display_name)
    .bind(&ns.description)
    .bind(&ns.visibility)
    .bind(i64::from(ns.protected))
    .bind(&ns.owner)
    .bind(ns.created_at)
    .bind(ns.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Everything a namespace create brings, in one transaction.
pub struct NewNamespace<'a> {
    pub namespace: &'a Namespace,
    pub associations: &'a [Association],
    /// (kind, item) pairs: objects, properties and tags.
    pub items: &'a [(&'static str, Item)],
}

pub async fn create_namespace(db: &Db, new: &NewNamespace<'_>) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    create_namespace_tx(&mut tx, new).await?;
    tx.commit().await
}

async fn create_namespace_tx(tx: &mut Tx<'_>, new: &NewNamespace<'_>) -> sqlx::Result<()> {
    insert_namespace_tx(tx, new.namespace).await?;
    for a in new.associations {
        ensure_resource_type_tx(tx, &a.name, a.created_at).await?;
        insert_association_tx(tx, &new.namespace.namespace, a).await?;
    }
    for (kind, item) in new.items {
        insert_item_tx(tx, &new.namespace.namespace, kind, item).await?;
    }
    Ok(())
}

/// Save `ns` (possibly renamed from `old`): children follow a rename.
pub async fn update_namespace(db: &Db, old: &str, ns: &Namespace) -> sqlx::Result<bool> {
    let mut tx = db.write().begin().await?;
    let done = sqlx::query(
        "UPDATE image_md_namespace SET namespace=$2, display_name=$3, description=$4, \
         visibility=$5, protected=$6, owner=$7, updated_at=$8 WHERE namespace=$1",
    )
    .bind(old)
    .bind(&ns.namespace)
    .bind(&ns.display_name)
    .bind(&ns.description)
    .bind(&ns.visibility)
    .bind(i64::from(ns.protected))
    .bind(&ns.owner)
    .bind(ns.updated_at)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if old != ns.namespace {
        for table in ["image_md_association", "image_md_item"] {
            sqlx::query(&format!(
                "UPDATE {table} SET namespace=$2 WHERE namespace=$1"
            ))
            .bind(old)
            .bind(&ns.namespace)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

pub async fn delete_namespace(db: &Db, name: &str) -> sqlx::Result<bool> {
    let mut tx = db.write().begin().await?;
    for table in ["image_md_association", "image_md_item"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE namespace=$1"))
            .bind(name)
            .execute(&mut *tx)
            .await?;
    }
    let done = sqlx::query("DELETE FROM image_md_namespace WHERE namespace=$1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

// -- objects, properties, tags ------------------------------------------------

pub async fn items(db: &Db, namespace: &str, kind: &str) -> sqlx::Result<Vec<Item>> {
    let rows = sqlx::query(
        "SELECT name, body, created_at, updated_at FROM image_md_item \
         WHERE namespace=$1 AND kind=$2 ORDER BY created_at, name",
    )
    .bind(namespace)
    .bind(kind)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(item_from).collect())
}

pub async fn item(db: &Db, namespace: &str, kind: &str, name: &str) -> sqlx::Result<Option<Item>> {
    let row = sqlx::query(
        "SELECT name, body, created_at, updated_at FROM image_md_item \
         WHERE namespace=$1 AND kind=$2 AND name=$3",
    )
    .bind(namespace)
    .bind(kind)
    .bind(name)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(item_from))
}

async fn insert_item_tx(
    tx: &mut Tx<'_>,
    namespace: &str,
    kind: &str,
    item: &Item,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO image_md_item (namespace, kind, name, body, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(namespace)
    .bind(kind)
    .bind(&item.name)
    .bind(item.body.to_string())
    .bind(item.created_at)
    .bind(item.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_item(db: &Db, namespace: &str, kind: &str, item: &Item) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    insert_item_tx(&mut tx, namespace, kind, item).await?;
    tx.commit().await
}

/// Replace every item of `kind` in `namespace` with `items` (tags create).
pub async fn replace_items(
    db: &Db,
    namespace: &str,
    kind: &str,
    items: &[Item],
) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM image_md_item WHERE namespace=$1 AND kind=$2")
        .bind(namespace)
        .bind(kind)
        .execute(&mut *tx)
        .await?;
    for item in items {
        insert_item_tx(&mut tx, namespace, kind, item).await?;
    }
    tx.commit().await
}

/// Save `item` under its (possibly new) name; false if `old` is gone.
pub async fn update_item(
    db: &Db,
    namespace: &str,
    kind: &str,
    old: &str,
    item: &Item,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE image_md_item SET name=$4, body=$5, updated_at=$6 \
         WHERE namespace=$1 AND kind=$2 AND name=$3",
    )
    .bind(namespace)
    .bind(kind)
    .bind(old)
    .bind(&item.name)
    .bind(item.body.to_string())
    .bind(item.updated_at)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Delete one item (`Some(name)`) or every item of `kind` (`None`).
pub async fn delete_items(
    db: &Db,
    namespace: &str,
    kind: &str,
    name: Option<&str>,
) -> sqlx::Result<u64> {
    let done = match name {
        Some(n) => {
            sqlx::query("DELETE FROM image_md_item WHERE namespace=$1 AND kind=$2 AND name=$3")
                .bind(namespace)
                .bind(kind)
                .bind(n)
                .execute(db.write())
                .await?
        }
        None => {
            sqlx::query("DELETE FROM image_md_item WHERE namespace=$1 AND kind=$2")
                .bind(namespace)
                .bind(kind)
                .execute(db.write())
                .await?
        }
    };
    Ok(done.rows_affected())
}

// -- resource types and associations ------------------------------------------

pub async fn resource_types(db: &Db) -> sqlx::Result<Vec<ResourceType>> {
    let rows = sqlx::query(
        "SELECT name, created_at, updated_at FROM image_md_resource_type ORDER BY name",
    )
    .fetch_all(db.read())
    .await?;
    Ok(rows
        .iter()
        .map(|r| ResourceType {
            name: text(r, "name"),
            created_at: int(r, "created_at"),
            updated_at: int(r, "updated_at"),
        })
        .collect())
}

async fn ensure_resource_type_tx(tx: &mut Tx<'_>, name: &str, now: i64) -> sqlx::Result<()> {
    let exists = sqlx::query("SELECT name FROM image_md_resource_type WHERE name=$1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_none() {
        sqlx::query(
            "INSERT INTO image_md_resource_type (name, protected, created_at, updated_at) \
             VALUES ($1, 0, $2, $2)",
        )
        .bind(name)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn insert_association_tx(
    tx: &mut Tx<'_>,
    namespace: &str,
    a: &Association,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO image_md_association \
         (namespace, resource_type, prefix, properties_target, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(namespace)
    .bind(&a.name)
    .bind(&a.prefix)
    .bind(&a.properties_target)
    .bind(a.created_at)
    .bind(a.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn associations(db: &Db, namespace: &str) -> sqlx::Result<Vec<Association>> {
    let rows = sqlx::query(
        "SELECT resource_type, prefix, properties_target, created_at, updated_at \
         FROM image_md_association WHERE namespace=$1 ORDER BY created_at, resource_type",
    )
    .bind(namespace)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(association_from).collect())
}

/// Namespace names associated with any of `types` (the list filter).
pub async fn namespaces_of_types(db: &Db) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT namespace, resource_type FROM image_md_association")
        .fetch_all(db.read())
        .await?;
    Ok(rows
        .iter()
        .map(|r| (text(r, "namespace"), text(r, "resource_type")))
        .collect())
}

pub async fn create_association(db: &Db, namespace: &str, a: &Association) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    ensure_resource_type_tx(&mut tx, &a.name, a.created_at).await?;
    insert_association_tx(&mut tx, namespace, a).await?;
    tx.commit().await
}

pub async fn delete_association(db: &Db, namespace: &str, name: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("DELETE FROM image_md_association WHERE namespace=$1 AND resource_type=$2")
            .bind(namespace)
            .bind(name)
            .execute(db.write())
            .await?;
    Ok(done.rows_affected() == 1)
}

// -- seeding -------------------------------------------------------------------

/// Insert the standard catalog once (version 1), unless already done.
pub async fn seed(
    db: &Db,
    resource_types: &[&str],
    namespaces: &[NewNamespace<'_>],
    now: i64,
) -> sqlx::Result<bool> {
    let mut tx = db.write().begin().await?;
    let done = sqlx::query("SELECT version FROM image_md_seed WHERE version=1")
        .fetch_optional(&mut *tx)
        .await?;
    if done.is_some() {
        return Ok(false);
    }
    for name in resource_types {
        sqlx::query(
            "INSERT INTO image_md_resource_type (name, protected, created_at, updated_at) \
             VALUES ($1, 1, $2, $2)",
        )
        .bind(*name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    for ns in namespaces {
        create_namespace_tx(&mut tx, ns).await?;
    }
    sqlx::query("INSERT INTO image_md_seed (version) VALUES (1)")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}
