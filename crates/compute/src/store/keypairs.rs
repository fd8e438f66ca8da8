use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, text, Db};

#[derive(Clone, Debug)]
pub struct Keypair {
    pub user_id: String,
    pub name: String,
    pub seq: i64,
    pub kind: String,
    pub public_key: String,
    pub fingerprint: String,
    pub created_at: i64,
}

fn from_row(r: &AnyRow) -> Keypair {
    Keypair {
        user_id: text(r, "user_id"),
        name: text(r, "name"),
        seq: int(r, "seq"),
        kind: text(r, "kind"),
        public_key: text(r, "public_key"),
        fingerprint: text(r, "fingerprint"),
        created_at: int(r, "created_at"),
    }
}

pub async fn create(db: &Db, k: &Keypair) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO compute_keypair (user_id, name, seq, kind, public_key, fingerprint, created_at) \
         VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM compute_keypair), $3, $4, $5, $6)",
    )
    .bind(&k.user_id)
    .bind(&k.name)
    .bind(&k.kind)
    .bind(&k.public_key)
    .bind(&k.fingerprint)
    .bind(k.created_at)
    .execute(db.write())
    .await
    .map(|_| ())
}

pub async fn get(db: &Db, user_id: &str, name: &str) -> sqlx::Result<Option<Keypair>> {
    let row = sqlx::query("SELECT * FROM compute_keypair WHERE user_id=$1 AND name=$2")
        .bind(user_id)
        .bind(name)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn list(db: &Db, user_id: &str) -> sqlx::Result<Vec<Keypair>> {
    let rows = sqlx::query("SELECT * FROM compute_keypair WHERE user_id=$1 ORDER BY name")
        .bind(user_id)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn delete(db: &Db, user_id: &str, name: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM compute_keypair WHERE user_id=$1 AND name=$2")
        .bind(user_id)
        .bind(name)
        .execute(db.write())
        .await?;
    Ok(done.rows_affected() > 0)
}
