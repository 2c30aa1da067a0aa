//! The journal's read path: raw events by day, events per day, and the delivery log.
//! Runs on pooled read-only connections. (The GitHub stats are the slice's own, in
//! `sources::github::store::sqlite`.)

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};

use super::payload;
use crate::model::ContentType;
use crate::stats::{
    rfc3339, DayCount, DeliveryQuery, DeliveryRecord, EventsQuery, StoredEvent, TimeRange,
};
use crate::store::StoreError;

pub fn events(conn: &Connection, query: &EventsQuery) -> Result<Vec<StoredEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, source, kind, action, delivery_id, hook_id, received_at, encoding, payload, content_type
         FROM events WHERE source = ?1 AND day = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
    )?;
    let mut rows = stmt.query(params![
        query.source,
        query.day.to_string(),
        query.after.unwrap_or(0),
        query.limit as i64
    ])?;
    let mut out = Vec::new();
    let mut bytes = 0usize;
    while let Some(row) = rows.next()? {
        if bytes >= query.max_bytes {
            break;
        }
        let seq: i64 = row.get(0)?;
        let content_type = payload::content_type(seq, row.get(9)?)?;
        let payload = payload::decode(seq, row.get(7)?, row.get(8)?)?;
        let payload = payload::served(seq, payload, content_type)?;
        bytes = bytes.saturating_add(payload.get().len());
        out.push(StoredEvent {
            seq,
            source: row.get(1)?,
            kind: row.get(2)?,
            action: row.get(3)?,
            delivery_id: row.get(4)?,
            hook_id: row.get(5)?,
            received_at: rfc3339(row.get(6)?),
            payload,
            content_type: (content_type != ContentType::Json).then(|| content_type.as_str()),
        });
    }
    Ok(out)
}

pub fn event_days(
    conn: &Connection,
    source: Option<&str>,
    range: TimeRange,
) -> Result<Vec<DayCount>, StoreError> {
    let mut sql = String::from("SELECT source, day, COUNT(*) FROM events WHERE 1");
    let mut args: Vec<Value> = Vec::new();
    if let Some(source) = source {
        sql.push_str(" AND source = ?");
        args.push(Value::from(source.to_owned()));
    }
    if let Some(from) = range.from {
        sql.push_str(" AND received_at >= ?");
        args.push(Value::from(from));
    }
    if let Some(to) = range.to {
        sql.push_str(" AND received_at < ?");
        args.push(Value::from(to));
    }
    sql.push_str(" GROUP BY source, day ORDER BY day, source");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(DayCount {
            source: r.get(0)?,
            day: r.get(1)?,
            events: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn deliveries(
    conn: &Connection,
    query: &DeliveryQuery,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    let mut sql = String::from(
        "SELECT seq, source, kind, action, delivery_id, hook_id, status, received_at, size
         FROM deliveries WHERE 1",
    );
    let mut args: Vec<Value> = Vec::new();
    for (column, value) in [
        ("source", &query.source),
        ("kind", &query.kind),
        ("status", &query.status),
    ] {
        if let Some(value) = value {
            sql.push_str(&format!(" AND {column} = ?"));
            args.push(Value::from(value.clone()));
        }
    }
    if let Some(before) = query.before {
        sql.push_str(" AND seq < ?");
        args.push(Value::from(before));
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    args.push(Value::from(query.limit as i64));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(DeliveryRecord {
            seq: Some(r.get(0)?),
            source: r.get(1)?,
            event: r.get(2)?,
            action: r.get(3)?,
            delivery_id: Some(r.get(4)?),
            hook_id: r.get(5)?,
            status: r.get(6)?,
            reason: None,
            received_at: rfc3339(r.get(7)?),
            size: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
