//! Durable tasks for the instance worker. A task is claimed atomically
//! (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several workers can share
//! the table; on SQLite the single writer serialises claims).

use ferro_api::time::now_micros;
use ferro_store::sqlx::{self, any::AnyRow, Any, Transaction};
use ferro_store::DbKind;
use serde_json::Value;

use super::{int, json, text, Db};

#[derive(Clone, Debug)]
pub struct Task {
    pub id: String,
    pub instance_id: String,
    pub kind: String,
    pub args: Value,
    pub attempts: i64,
}

fn from_row(r: &AnyRow) -> Task {
    Task {
        id: text(r, "id"),
        instance_id: text(r, "instance_id"),
        kind: text(r, "kind"),
        args: json(r, "args"),
        attempts: int(r, "attempts"),
    }
}

pub async fn insert(
    tx: &mut Transaction<'_, Any>,
    instance_id: &str,
    kind: &str,
    args: &Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO compute_task (id, instance_id, kind, args, state, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(instance_id)
    .bind(kind)
    .bind(args.to_string())
    .bind(now_micros())
    .execute(&mut **tx)
    .await
    .map(|_| ())
}

/// Queue one task.
pub async fn enqueue(db: &Db, instance_id: &str, kind: &str, args: &Value) -> sqlx::Result<()> {
    let mut tx = db.write().begin().await?;
    insert(&mut tx, instance_id, kind, args).await?;
    tx.commit().await
}

/// Claim the oldest pending task of a server that has none running (tasks
/// of one server run in order; different servers' run side by side).
pub async fn claim(db: &Db, host: &str) -> sqlx::Result<Option<Task>> {
    let lock = match db.kind() {
        DbKind::Postgres => " FOR UPDATE SKIP LOCKED",
        DbKind::Sqlite => "",
    };
    let sql = format!(
        "UPDATE compute_task SET state='running', claimed_by=$1, claimed_at=$2, attempts=attempts+1 \
         WHERE id = (SELECT id FROM compute_task t WHERE state='pending' AND NOT EXISTS \
         (SELECT 1 FROM compute_task r WHERE r.instance_id = t.instance_id AND r.state='running') \
         ORDER BY created_at, id LIMIT 1{lock}) \
         RETURNING *"
    );
    let row = sqlx::query(&sql)
        .bind(host)
        .bind(now_micros())
        .fetch_optional(db.write())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn finish(db: &Db, id: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM compute_task WHERE id=$1")
        .bind(id)
        .execute(db.write())
        .await
        .map(|_| ())
}

/// Tasks this host was running when it stopped go back to pending (the
/// task handlers are idempotent). Tasks of other hosts are left to them
/// unless their claim is older than ten minutes.
pub async fn requeue_abandoned(db: &Db, host: &str) -> sqlx::Result<u64> {
    let stale = now_micros() - 600 * 1_000_000;
    let done = sqlx::query(
        "UPDATE compute_task SET state='pending', claimed_by=NULL WHERE state='running' \
         AND (claimed_by=$1 OR claimed_at < $2)",
    )
    .bind(host)
    .bind(stale)
    .execute(db.write())
    .await?;
    Ok(done.rows_affected())
}
