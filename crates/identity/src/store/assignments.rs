use ferro_store::sqlx::{self, any::AnyRow};

use super::{boolean, flag, text, Db};

/// Who holds a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    User,
    Group,
}

/// On what a role is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Project,
    Domain,
    System,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::User => "user",
            Actor::Group => "group",
        }
    }
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Project => "project",
            Target::Domain => "domain",
            Target::System => "system",
        }
    }
}

/// The id under which a system assignment is stored.
pub const SYSTEM_ALL: &str = "all";

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Assignment {
    pub actor: Actor,
    pub actor_id: String,
    pub target: Target,
    pub target_id: String,
    pub role_id: String,
    pub inherited: bool,
}

fn from_row(r: &AnyRow) -> Assignment {
    Assignment {
        actor: if text(r, "actor_type") == "group" {
            Actor::Group
        } else {
            Actor::User
        },
        actor_id: text(r, "actor_id"),
        target: match text(r, "target_type").as_str() {
            "domain" => Target::Domain,
            "system" => Target::System,
            _ => Target::Project,
        },
        target_id: text(r, "target_id"),
        role_id: text(r, "role_id"),
        inherited: boolean(r, "inherited"),
    }
}

pub async fn exists(db: &Db, a: &Assignment) -> sqlx::Result<bool> {
    let row = sqlx::query(
        "SELECT 1 AS one FROM identity_assignment WHERE actor_type=$1 AND actor_id=$2 \
         AND target_type=$3 AND target_id=$4 AND role_id=$5 AND inherited=$6",
    )
    .bind(a.actor.as_str())
    .bind(&a.actor_id)
    .bind(a.target.as_str())
    .bind(&a.target_id)
    .bind(&a.role_id)
    .bind(flag(a.inherited))
    .fetch_optional(db.read())
    .await?;
    Ok(row.is_some())
}

pub async fn grant(db: &Db, a: &Assignment) -> sqlx::Result<()> {
    if exists(db, a).await? {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO identity_assignment (actor_type, actor_id, target_type, target_id, role_id, \
         inherited) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(a.actor.as_str())
    .bind(&a.actor_id)
    .bind(a.target.as_str())
    .bind(&a.target_id)
    .bind(&a.role_id)
    .bind(flag(a.inherited))
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn revoke(db: &Db, a: &Assignment) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM identity_assignment WHERE actor_type=$1 AND actor_id=$2 AND target_type=$3 \
         AND target_id=$4 AND role_id=$5 AND inherited=$6",
    )
    .bind(a.actor.as_str())
    .bind(&a.actor_id)
    .bind(a.target.as_str())
    .bind(&a.target_id)
    .bind(&a.role_id)
    .bind(flag(a.inherited))
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<Assignment>> {
    let rows = sqlx::query(
        "SELECT * FROM identity_assignment ORDER BY actor_type, actor_id, target_type, target_id, role_id",
    )
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Assignments held by any of `actors` (user id and group ids).
pub async fn list_for_actors(
    db: &Db,
    user_id: &str,
    group_ids: &[String],
) -> sqlx::Result<Vec<Assignment>> {
    let rows =
        sqlx::query("SELECT * FROM identity_assignment WHERE actor_type='user' AND actor_id=$1")
            .bind(user_id)
            .fetch_all(db.read())
            .await?;
    let mut out: Vec<Assignment> = rows.iter().map(from_row).collect();
    for g in group_ids {
        let rows = sqlx::query(
            "SELECT * FROM identity_assignment WHERE actor_type='group' AND actor_id=$1",
        )
        .bind(g)
        .fetch_all(db.read())
        .await?;
        out.extend(rows.iter().map(from_row));
    }
    Ok(out)
}
