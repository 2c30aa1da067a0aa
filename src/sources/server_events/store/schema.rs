//! The server-events source's storage, declared here so the source owns it: the
//! `server_events` table on SQLite and the `server-events` journal on Elasticsearch.
//! Listed in `sources::SCHEMAS`; the stores migrate and set it up beside their own.

use serde_json::{json, Value};

use crate::store::elasticsearch::layout::{boolean, date, keyword, long};
use crate::store::{EsJournal, SourceSchema};

pub const SCHEMA: SourceSchema = SourceSchema {
    name: "server-events",
    sqlite_migrations: MIGRATIONS,
    sqlite_projections: &["server_events"],
    es_journals: &[EsJournal {
        kind: "server-events",
        table: "server_events",
        properties,
    }],
};

/// Each entry migrates from version `index` to `index + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    // Version 1: the read model, one row per stored event, keyed by the event's journal
    // seq (its public, monotonic id). Until it moved here this was core migration 4, so
    // a data dir may already have the table: `IF NOT EXISTS` leaves it as it is.
    r#"
CREATE TABLE IF NOT EXISTS server_events (
    seq             INTEGER PRIMARY KEY,
    source          TEXT    NOT NULL,
    received_at     INTEGER NOT NULL,
    day             TEXT    NOT NULL,
    src             TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    player          TEXT,
    ktyp            TEXT,
    milestone_type  TEXT,
    won             INTEGER NOT NULL DEFAULT 0,
    game_time       INTEGER,
    data            TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS server_events_by_source ON server_events (source, seq);
CREATE INDEX IF NOT EXISTS server_events_by_time ON server_events (source, received_at, seq);
"#,
];

/// The `server-events` journal's fields: one document per stored event, written in the
/// journal's bulk request (see `model::SourceRow`).
fn properties() -> Value {
    json!({
        "seq": long(), "source": keyword(), "dedup_key": keyword(), "received_at": date(),
        "day": keyword(), "src": keyword(), "type": keyword(), "player": keyword(),
        "ktyp": keyword(), "milestone_type": keyword(), "won": boolean(),
        "game_time": date(),
        // The event's data as submitted: returned whole, never searched.
        "data": {"type": "object", "enabled": false},
    })
}
