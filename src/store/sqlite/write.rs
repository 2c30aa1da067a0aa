//! The write path: one transaction per group-commit batch. Each envelope is appended
//! to the journal unless its dedup key is known; only new envelopes apply their entity
//! writes, each merged by the rules of `sources::github::merge` (newest version wins).

use rusqlite::{params, Transaction};

use super::{entities, payload};
use crate::model::{ContentType, EntityWrite, Envelope, SourceRow, WriteOutcome};
use crate::store::StoreError;

/// NULL for JSON, as every row before content types were stored.
fn stored_content_type(content_type: ContentType) -> Option<&'static str> {
    match content_type {
        ContentType::Json => None,
        other => Some(other.as_str()),
    }
}

pub fn write_batch(
    tx: &Transaction<'_>,
    encoder: &mut payload::Encoder,
    batch: &[Envelope],
) -> Result<Vec<WriteOutcome>, StoreError> {
    let mut insert_event = tx.prepare_cached(
        "INSERT INTO events (source, dedup_key, kind, action, delivery_id, hook_id, received_at, day, encoding, payload, content_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (source, dedup_key) DO NOTHING",
    )?;
    let mut insert_delivery = tx.prepare_cached(
        "INSERT INTO deliveries (source, kind, action, delivery_id, hook_id, status, received_at, size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for env in batch {
        let day = chrono::DateTime::from_timestamp_millis(env.received_at)
            .unwrap_or_default()
            .date_naive()
            .to_string();
        let (encoding, payload) = encoder.encode(&env.payload);
        let inserted = insert_event.execute(params![
            env.source,
            env.dedup_key,
            env.kind,
            env.action,
            env.delivery_id,
            env.hook_id,
            env.received_at,
            day,
            encoding,
            payload,
            stored_content_type(env.content_type),
        ])?;
        let outcome = if inserted == 1 {
            WriteOutcome::Accepted
        } else {
            WriteOutcome::Duplicate
        };
        insert_delivery.execute(params![
            env.source,
            env.kind,
            env.action,
            env.delivery_id,
            env.hook_id,
            outcome.as_str(),
            env.received_at,
            env.size as i64,
        ])?;
        if outcome == WriteOutcome::Accepted {
            let event = EventKey {
                seq: tx.last_insert_rowid(),
                source: &env.source,
                received_at: env.received_at,
            };
            for write in &env.writes {
                apply(tx, write, &event)?;
            }
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The stored event an entity write comes from: source rows are keyed by it.
pub(super) struct EventKey<'a> {
    pub seq: i64,
    pub source: &'a str,
    pub received_at: i64,
}

/// Applies one write of a new event: a source row is inserted, a GitHub entity merged
/// into its stored row by `sources::github::merge` (see `entities`).
pub(super) fn apply(
    tx: &Transaction<'_>,
    write: &EntityWrite,
    event: &EventKey<'_>,
) -> Result<(), StoreError> {
    match write {
        EntityWrite::Row(row) => insert_row(tx, row, event),
        entity => entities::apply(tx, entity),
    }
}

/// Inserts a source's read-model row; a replay of the same event leaves it as it is.
/// Table and column names come from code, never from input, but are checked anyway.
fn insert_row(
    tx: &Transaction<'_>,
    row: &SourceRow,
    event: &EventKey<'_>,
) -> Result<(), StoreError> {
    let plain =
        |name: &str| !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if !plain(&row.table) || !row.fields.keys().all(|k| plain(k)) {
        return Err(StoreError::Corrupt(format!(
            "source row for table `{}` has a name that is not a plain identifier",
            row.table
        )));
    }
    let day = chrono::DateTime::from_timestamp_millis(event.received_at)
        .unwrap_or_default()
        .date_naive()
        .to_string();
    let mut columns = String::from("seq, source, received_at, day");
    let mut marks = String::from("?1, ?2, ?3, ?4");
    let mut values: Vec<rusqlite::types::Value> = vec![
        event.seq.into(),
        event.source.to_owned().into(),
        event.received_at.into(),
        day.into(),
    ];
    for (name, value) in &row.fields {
        columns.push_str(", ");
        columns.push_str(name);
        values.push(sql_value(value));
        marks.push_str(&format!(", ?{}", values.len()));
    }
    let sql = format!(
        "INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT (seq) DO NOTHING",
        table = row.table
    );
    tx.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

fn sql_value(value: &serde_json::Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as Sql;
    use serde_json::Value as Json;
    match value {
        Json::Null => Sql::Null,
        Json::Bool(b) => Sql::Integer(i64::from(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => Sql::Text(s.clone()),
        other => Sql::Text(other.to_string()),
    }
}
