//! Rebuilding the projections from the journal without stopping ingest: replay every
//! event up to the current end into a scratch database beside the store, then, in one
//! write transaction, swap its tables in and apply the events that arrived meanwhile.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, Transaction};

use super::{payload, schema, write};
use crate::store::{Progress, Projector, RawEvent, RebuildReport, SourceSchema, StoreError};

/// The core's projected tables, which a rebuild replaces along with each source's
/// `sqlite_projections`. The journal (events, deliveries) and API keys are never touched.
const PROJECTIONS: [&str; 6] = [
    "orgs",
    "repos",
    "teams",
    "org_members",
    "team_members",
    "pull_requests",
];

/// Every table a rebuild replaces: the core's, then the sources'.
fn projections(schemas: &[SourceSchema]) -> impl Iterator<Item = &str> {
    PROJECTIONS.into_iter().chain(
        schemas
            .iter()
            .flat_map(|s| s.sqlite_projections.iter().copied()),
    )
}
/// Events replayed per scratch transaction.
const CHUNK: u64 = 5_000;

/// The scratch file next to the store: `reckon.sqlite3.rebuild`.
pub fn scratch_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".rebuild");
    PathBuf::from(name)
}

fn remove_scratch(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// Replays events `..= upto` from `source` into a fresh scratch database at `scratch`,
/// migrated with the core's and `schemas`' tables.
pub fn build_scratch(
    source: &Connection,
    scratch: &Path,
    schemas: &[SourceSchema],
    upto: i64,
    projector: &Projector,
    progress: &Progress,
) -> Result<(u64, u64), StoreError> {
    remove_scratch(scratch);
    let mut conn = Connection::open(scratch)?;
    // A scratch copy: if the machine dies, the rebuild simply starts again.
    conn.pragma_update(None, "journal_mode", "off")?;
    conn.pragma_update(None, "synchronous", "off")?;
    schema::migrate(&mut conn, schemas)?;
    let total: u64 =
        source.query_row("SELECT COUNT(*) FROM events WHERE seq <= ?1", [upto], |r| {
            r.get(0)
        })?;
    let mut stmt = source.prepare(
        "SELECT seq, source, kind, received_at, encoding, payload, content_type FROM events
         WHERE seq <= ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([upto])?;
    let (mut events, mut writes) = (0u64, 0u64);
    let mut tx = conn.transaction()?;
    while let Some(row) = rows.next()? {
        let event = raw_event(row)?;
        writes += apply_event(&tx, projector, &event)?;
        events += 1;
        if events % CHUNK == 0 {
            tx.commit()?;
            tx = conn.transaction()?;
            progress(events, total);
        }
    }
    tx.commit()?;
    progress(events, total);
    Ok((events, writes))
}

/// Swaps the scratch tables into `tx`'s database and applies the events after `upto`.
/// `tx` must be an immediate transaction on a connection with the scratch attached as
/// `rebuild`.
pub fn swap_in(
    tx: &Transaction<'_>,
    schemas: &[SourceSchema],
    upto: i64,
    projector: &Projector,
) -> Result<(u64, u64), StoreError> {
    for table in projections(schemas) {
        tx.execute(&format!("DELETE FROM main.{table}"), [])?;
        tx.execute(
            &format!("INSERT INTO main.{table} SELECT * FROM rebuild.{table}"),
            [],
        )?;
    }
    let mut stmt = tx.prepare(
        "SELECT seq, source, kind, received_at, encoding, payload, content_type FROM main.events
         WHERE seq > ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![upto])?;
    let (mut events, mut writes) = (0u64, 0u64);
    while let Some(row) = rows.next()? {
        let event = raw_event(row)?;
        writes += apply_event(tx, projector, &event)?;
        events += 1;
    }
    Ok((events, writes))
}

pub fn finish(scratch: &Path) {
    remove_scratch(scratch);
}

fn raw_event(row: &rusqlite::Row<'_>) -> Result<RawEvent, StoreError> {
    let seq: i64 = row.get(0)?;
    Ok(RawEvent {
        seq,
        source: row.get(1)?,
        kind: row.get(2)?,
        received_at: row.get(3)?,
        payload: payload::decode(seq, row.get(4)?, row.get(5)?)?,
        content_type: payload::content_type(seq, row.get(6)?)?,
    })
}

fn apply_event(
    tx: &Transaction<'_>,
    projector: &Projector,
    event: &RawEvent,
) -> Result<u64, StoreError> {
    let writes = projector(event);
    let key = write::EventKey {
        seq: event.seq,
        source: &event.source,
        received_at: event.received_at,
    };
    for w in &writes {
        write::apply(tx, w, &key)?;
    }
    Ok(writes.len() as u64)
}

pub fn report(built: (u64, u64), caught_up: (u64, u64)) -> RebuildReport {
    RebuildReport {
        events: built.0 + caught_up.0,
        writes: built.1 + caught_up.1,
        caught_up: caught_up.0,
    }
}
