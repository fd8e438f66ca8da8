//! Durable work for the in-process worker: a row per pending job, claimed
//! atomically (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the single
//! writer connection makes a plain conditional UPDATE safe).

use ferro_store::sqlx::{self, any::AnyRow};
use ferro_store::DbKind;
use serde_json::{Map, Value};

use super::{object, text, to_json, Db};

#[derive(Clone, Debug)]
pub struct Task {
    pub id: String,
    /// `create_volume`, `extend_volume`, `create_snapshot`.
    pub kind: String,
    pub target_id: String,
    pub args: Map<String, Value>,
}

fn from_row(r: &AnyRow) -> Task {
    Task {
        id: text(r, "id"),
        kind: text(r, "kind"),
        target_id: text(r, "target_id"),
        args: object(r, "args"),
    }
}

pub async fn insert(
    conn: &mut sqlx::AnyConnection,
    kind: &str,
    target_id: &str,
    args: &Map<String, Value>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO volume_tasks (id, kind, target_id, args, state, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(kind)
    .bind(target_id)
    .bind(to_json(args))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// Claim the oldest pending task, if any.
pub async fn claim(db: &Db, now: i64) -> sqlx::Result<Option<Task>> {
    let pick = match db.kind() {
        DbKind::Postgres => {
            "SELECT id FROM volume_tasks WHERE state='pending' ORDER BY created_at, id \
             LIMIT 1 FOR UPDATE SKIP LOCKED"
        }
        DbKind::Sqlite => {
            "SELECT id FROM volume_tasks WHERE state='pending' ORDER BY created_at, id LIMIT 1"
        }
    };
    let sql = format!(
        "UPDATE volume_tasks SET state='running', claimed_at=$1 WHERE id = ({pick}) \
         AND state='pending' RETURNING id, kind, target_id, args"
    );
    let row = sqlx::query(&sql)
        .bind(now)
        .fetch_optional(db.write())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn finish(conn: &mut sqlx::AnyConnection, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM volume_tasks WHERE id=$1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// After a crash: whatever was running is pending again (single process).
pub async fn requeue_running(db: &Db) -> sqlx::Result<u64> {
    let done = sqlx::query("UPDATE volume_tasks SET state='pending' WHERE state='running'")
        .execute(db.write())
        .await?;
    Ok(done.rows_affected())
}

/// Targets that still have work queued.
pub async fn targets(db: &Db) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query("SELECT target_id FROM volume_tasks")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(|r| text(r, "target_id")).collect())
}
