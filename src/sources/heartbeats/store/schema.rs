//! The heartbeats source's storage: the `heartbeats` table and its daily rollups on
//! SQLite, and the `heartbeats` journal on Elasticsearch. Listed in `sources::SCHEMAS`;
//! the stores migrate and set it up beside their own.

use serde_json::{json, Value};

use crate::store::elasticsearch::layout::{boolean, date, keyword, long};
use crate::store::{EsJournal, SourceSchema};

pub const SCHEMA: SourceSchema = SourceSchema {
    name: "heartbeats",
    sqlite_migrations: MIGRATIONS,
    sqlite_projections: &["heartbeats", "heartbeat_rollups", "heartbeat_file_rollups"],
    es_journals: &[EsJournal {
        kind: "heartbeats",
        table: super::super::heartbeat::TABLE,
        properties,
    }],
};

/// Each entry migrates from version `index` to `index + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    // Version 1: one row per stored heartbeat; time per user, local day and group
    // (and per file) as rollups, refreshed from the heartbeats of the hours a trigger
    // marks dirty in the same transaction as the insert, so no insert goes unseen.
    // `IF NOT EXISTS` throughout: a store whose version record was lost keeps its rows.
    // The heartbeat as sent (every field, unknown ones too) stays in the journal only.
    r#"
CREATE TABLE IF NOT EXISTS heartbeats (
    seq         INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    day         TEXT    NOT NULL,
    user        TEXT    NOT NULL,
    time_ms     INTEGER NOT NULL,
    elapsed_ms  INTEGER,
    entity      TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    project     TEXT    NOT NULL,
    branch      TEXT    NOT NULL,
    language    TEXT    NOT NULL,
    editor      TEXT    NOT NULL,
    os          TEXT    NOT NULL,
    machine     TEXT    NOT NULL,
    is_write    INTEGER NOT NULL DEFAULT 0,
    lines       INTEGER
);
CREATE INDEX IF NOT EXISTS heartbeats_by_user_time ON heartbeats (user, time_ms);

CREATE TABLE IF NOT EXISTS heartbeat_dirty (
    user TEXT    NOT NULL,
    hour INTEGER NOT NULL,
    PRIMARY KEY (user, hour)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS heartbeats_mark_dirty AFTER INSERT ON heartbeats BEGIN
    INSERT OR IGNORE INTO heartbeat_dirty (user, hour) VALUES (NEW.user, NEW.time_ms / 3600000);
END;

CREATE TABLE IF NOT EXISTS heartbeat_rollup_basis (
    user       TEXT    PRIMARY KEY,
    timezone   TEXT    NOT NULL,
    timeout_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS heartbeat_rollups (
    user     TEXT    NOT NULL,
    day      TEXT    NOT NULL,
    project  TEXT    NOT NULL,
    language TEXT    NOT NULL,
    editor   TEXT    NOT NULL,
    os       TEXT    NOT NULL,
    machine  TEXT    NOT NULL,
    category TEXT    NOT NULL,
    branch   TEXT    NOT NULL,
    ms       INTEGER NOT NULL,
    PRIMARY KEY (user, day, project, language, editor, os, machine, category, branch)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS heartbeat_file_rollups (
    user     TEXT    NOT NULL,
    project  TEXT    NOT NULL,
    day      TEXT    NOT NULL,
    language TEXT    NOT NULL,
    editor   TEXT    NOT NULL,
    os       TEXT    NOT NULL,
    machine  TEXT    NOT NULL,
    category TEXT    NOT NULL,
    branch   TEXT    NOT NULL,
    entity   TEXT    NOT NULL,
    ms       INTEGER NOT NULL,
    PRIMARY KEY (user, project, day, language, editor, os, machine, category, branch, entity)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS heartbeat_file_rollups_by_day ON heartbeat_file_rollups (user, day);
"#,
];

/// The `heartbeats` journal's fields: one document per stored heartbeat (the heartbeat
/// as sent stays in the events journal).
fn properties() -> Value {
    json!({
        "seq": long(), "source": keyword(), "dedup_key": keyword(), "received_at": date(),
        "day": keyword(), "user": keyword(), "time_ms": long(), "elapsed_ms": long(),
        "entity": keyword(), "type": keyword(), "category": keyword(), "project": keyword(),
        "branch": keyword(), "language": keyword(), "editor": keyword(), "os": keyword(),
        "machine": keyword(), "is_write": boolean(), "lines": long(),
    })
}
