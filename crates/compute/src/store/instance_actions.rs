//! Instance actions (what was asked of a server, with the request id) and
//! their events (what the service did about it).

use ferro_api::time::now_micros;
use ferro_store::sqlx::{self, any::AnyRow};

use super::{int, opt_int, opt_text, text, Db};

#[derive(Clone, Debug, Default)]
pub struct InstanceAction {
    pub id: String,
    pub instance_id: String,
    pub action: String,
    pub request_id: String,
    pub user_id: String,
    pub project_id: String,
    pub message: Option<String>,
    pub start_time: i64,
}

/// An action with its last change (2.58): the start, then each event.
#[derive(Clone, Debug)]
pub struct TimedAction {
    pub action: InstanceAction,
    pub updated_at: i64,
}

#[derive(Clone, Debug, Default)]
pub struct ActionEvent {
    pub event: String,
    pub start_time: i64,
    pub finish_time: Option<i64>,
    pub result: Option<String>,
    pub traceback: Option<String>,
    /// The host the event ran on (2.62).
    pub host: Option<String>,
}

fn from_row(r: &AnyRow) -> InstanceAction {
    InstanceAction {
        id: text(r, "id"),
        instance_id: text(r, "instance_id"),
        action: text(r, "action"),
        request_id: text(r, "request_id"),
        user_id: text(r, "user_id"),
        project_id: text(r, "project_id"),
        message: opt_text(r, "message"),
        start_time: int(r, "start_time"),
    }
}

fn timed_from_row(r: &AnyRow) -> TimedAction {
    TimedAction {
        action: from_row(r),
        updated_at: opt_int(r, "updated_at").unwrap_or_else(|| int(r, "start_time")),
    }
}

fn event_from_row(r: &AnyRow) -> ActionEvent {
    ActionEvent {
        event: text(r, "event"),
        start_time: int(r, "start_time"),
        finish_time: opt_int(r, "finish_time"),
        result: opt_text(r, "result"),
        traceback: opt_text(r, "traceback"),
        host: opt_text(r, "host"),
    }
}

pub async fn create(db: &Db, a: &InstanceAction) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO compute_instance_action (id, instance_id, action, request_id, user_id, \
         project_id, message, start_time, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&a.id)
    .bind(&a.instance_id)
    .bind(&a.action)
    .bind(&a.request_id)
    .bind(&a.user_id)
    .bind(&a.project_id)
    .bind(&a.message)
    .bind(a.start_time)
    .execute(db.write())
    .await
    .map(|_| ())
}

/// Actions of an instance, newest first.
pub async fn list(db: &Db, instance_id: &str) -> sqlx::Result<Vec<InstanceAction>> {
    let rows = sqlx::query(
        "SELECT * FROM compute_instance_action WHERE instance_id=$1 \
         ORDER BY start_time DESC, id DESC",
    )
    .bind(instance_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect())
}

pub async fn by_request(
    db: &Db,
    instance_id: &str,
    request_id: &str,
) -> sqlx::Result<Option<InstanceAction>> {
    let row = sqlx::query(
        "SELECT * FROM compute_instance_action WHERE instance_id=$1 AND request_id=$2 \
         ORDER BY start_time DESC LIMIT 1",
    )
    .bind(instance_id)
    .bind(request_id)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn events(db: &Db, action_id: &str) -> sqlx::Result<Vec<ActionEvent>> {
    let rows = sqlx::query(
        "SELECT * FROM compute_instance_action_event WHERE action_id=$1 ORDER BY start_time, id",
    )
    .bind(action_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(event_from_row).collect())
}

/// Record a finished event on an action; a failed one marks the action
/// `Error`, as Nova does.
pub async fn add_event(
    db: &Db,
    action_id: &str,
    event: &str,
    start_time: i64,
    failure: Option<&str>,
) -> sqlx::Result<()> {
    add_event_on(db, action_id, event, start_time, failure, None).await
}

/// [`add_event`] naming the host the event ran on (shown from 2.62).
pub async fn add_event_on(
    db: &Db,
    action_id: &str,
    event: &str,
    start_time: i64,
    failure: Option<&str>,
    host: Option<&str>,
) -> sqlx::Result<()> {
    let result = if failure.is_some() {
        "Error"
    } else {
        "Success"
    };
    sqlx::query(
        "INSERT INTO compute_instance_action_event (id, action_id, event, start_time, \
         finish_time, result, traceback, host) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(action_id)
    .bind(event)
    .bind(start_time)
    .bind(now_micros())
    .bind(result)
    .bind(failure)
    .bind(host)
    .execute(db.write())
    .await?;
    sqlx::query("UPDATE compute_instance_action SET updated_at=$2 WHERE id=$1")
        .bind(action_id)
        .bind(now_micros())
        .execute(db.write())
        .await?;
    if failure.is_some() {
        sqlx::query("UPDATE compute_instance_action SET message='Error' WHERE id=$1")
            .bind(action_id)
            .execute(db.write())
            .await?;
    }
    Ok(())
}

/// The project of an instance, deleted or not (2.21 lets the actions of
/// deleted servers be read).
pub async fn instance_project(db: &Db, instance_id: &str) -> sqlx::Result<Option<String>> {
    let row = sqlx::query("SELECT project_id FROM compute_instance WHERE id=$1")
        .bind(instance_id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(|r| text(r, "project_id")))
}

/// [`list`] with each action's last change.
pub async fn list_timed(db: &Db, instance_id: &str) -> sqlx::Result<Vec<TimedAction>> {
    let rows = sqlx::query(
        "SELECT * FROM compute_instance_action WHERE instance_id=$1 \
         ORDER BY start_time DESC, id DESC",
    )
    .bind(instance_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(timed_from_row).collect())
}

/// [`by_request`] with the action's last change.
pub async fn by_request_timed(
    db: &Db,
    instance_id: &str,
    request_id: &str,
) -> sqlx::Result<Option<TimedAction>> {
    let row = sqlx::query(
        "SELECT * FROM compute_instance_action WHERE instance_id=$1 AND request_id=$2 \
         ORDER BY start_time DESC LIMIT 1",
    )
    .bind(instance_id)
    .bind(request_id)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(timed_from_row))
}
