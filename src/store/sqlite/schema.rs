//! The SQLite schema and its migrations, tracked with `PRAGMA user_version` so a data
//! dir from an older Reckon is upgraded in place and one from a newer Reckon is refused.
//! Sources' own migrations (`store::SourceSchema`) follow, versioned per source in the
//! `source_schema` table.

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::{SourceSchema, StoreError};

/// Each entry migrates from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    dedup_key    TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    action       TEXT,
    delivery_id  TEXT    NOT NULL,
    hook_id      TEXT,
    received_at  INTEGER NOT NULL,
    day          TEXT    NOT NULL,
    -- 0: the JSON as received; 1: zstd-compressed JSON; 2 (schema 5): zstd with a dictionary.
    encoding     INTEGER NOT NULL,
    payload      BLOB    NOT NULL,
    UNIQUE (source, dedup_key)
);
CREATE INDEX events_by_day ON events (source, day, seq);
CREATE INDEX events_day ON events (day);

CREATE TABLE deliveries (
    seq          INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    action       TEXT,
    delivery_id  TEXT    NOT NULL,
    hook_id      TEXT,
    status       TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    size         INTEGER NOT NULL
);
CREATE INDEX deliveries_by_source ON deliveries (source, seq);

CREATE TABLE orgs (
    key    TEXT PRIMARY KEY,
    login  TEXT NOT NULL,
    id     INTEGER
);

CREATE TABLE repos (
    id         INTEGER PRIMARY KEY,
    org        TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    full_name  TEXT    NOT NULL,
    private    INTEGER NOT NULL,
    archived   INTEGER NOT NULL,
    deleted    INTEGER NOT NULL,
    version    INTEGER NOT NULL
);
CREATE INDEX repos_by_org ON repos (org);

CREATE TABLE teams (
    id       INTEGER PRIMARY KEY,
    org      TEXT    NOT NULL,
    slug     TEXT,
    name     TEXT,
    deleted  INTEGER NOT NULL,
    version  INTEGER NOT NULL
);
CREATE INDEX teams_by_org ON teams (org, slug);

CREATE TABLE org_members (
    org      TEXT    NOT NULL,
    user_id  INTEGER NOT NULL,
    login    TEXT    NOT NULL,
    present  INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    PRIMARY KEY (org, user_id)
);

CREATE TABLE team_members (
    team_id  INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    org      TEXT    NOT NULL,
    login    TEXT    NOT NULL,
    present  INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_by_user ON team_members (user_id);

CREATE TABLE pull_requests (
    id                   INTEGER PRIMARY KEY,
    org                  TEXT    NOT NULL,
    repo_id              INTEGER NOT NULL,
    repo                 TEXT    NOT NULL,
    number               INTEGER NOT NULL,
    title                TEXT    NOT NULL,
    state                TEXT    NOT NULL,
    draft                INTEGER NOT NULL,
    author               TEXT    NOT NULL,
    author_id            INTEGER NOT NULL,
    base_ref             TEXT    NOT NULL,
    labels               TEXT    NOT NULL,
    requested_reviewers  TEXT    NOT NULL,
    additions            INTEGER,
    deletions            INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    closed_at            INTEGER,
    merged_at            INTEGER,
    version              INTEGER NOT NULL
);
CREATE INDEX pull_requests_by_org ON pull_requests (org, created_at);
CREATE INDEX pull_requests_by_author ON pull_requests (author_id);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    source      TEXT    NOT NULL,
    name        TEXT,
    hash        BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
"#,
    // Version 2: indexes found by `cargo bench --bench stats` on 100,000 PRs. Every
    // delivery that carries a repository updates its PRs by repo id, and the dashboard
    // counts by state and buckets by merge and close time.
    r#"
CREATE INDEX pull_requests_by_repo ON pull_requests (repo_id, state);
CREATE INDEX pull_requests_by_state ON pull_requests (org, state);
CREATE INDEX pull_requests_by_merged ON pull_requests (org, merged_at) WHERE merged_at IS NOT NULL;
CREATE INDEX pull_requests_by_closed ON pull_requests (org, closed_at) WHERE closed_at IS NOT NULL;
"#,
    // Version 3: small JSON documents the reconciler keeps (reports, scan cursors), and
    // the deployment-wide locks (one reconcile scheduler).
    r#"
CREATE TABLE state (
    key         TEXT PRIMARY KEY,
    value       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE TABLE locks (
    name    TEXT PRIMARY KEY,
    holder  TEXT    NOT NULL,
    until   INTEGER NOT NULL
);
"#,
    // Version 4: created the server-events source's `server_events` table. Moved to the
    // source's own migrations (`sources::server_events::store::schema`, tracked in
    // `source_schema`), whose first one is idempotent: data dirs that ran this version
    // keep their table and rows, new ones get it from the source.
    "-- moved: the server_events table is the server-events source's migration 1\n",
    // Version 5: payloads may be stored with encoding 2 (zstd with payload dictionary v1,
    // see payload.rs). No table changes: an older Reckon refuses this data dir up front
    // instead of failing on those rows.
    "-- encoding 2: zstd with payload dictionary v1\n",
    // Version 6: the journal keeps a content type per event. NULL is JSON, which every
    // row before this version is, so old rows need no rewrite.
    "ALTER TABLE events ADD COLUMN content_type TEXT;\n",
];

/// Each source's schema version, for the migrations sources declare themselves
/// (`store::SourceSchema`). Outside the numbered list, so the core's version (and what
/// an older Reckon accepts) stays its own; a source's version is 0 until it has a row.
const SOURCE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS source_schema (
    name     TEXT PRIMARY KEY,
    version  INTEGER NOT NULL
);
";

/// Migrates the core schema, then each source's in `schemas`. A data dir with a core or
/// source version newer than this build knows is refused before anything is applied.
pub fn migrate(conn: &mut Connection, schemas: &[SourceSchema]) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    // Sources are checked before any migration runs too.
    let tracked: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'source_schema')",
        [],
        |r| r.get(0),
    )?;
    if tracked {
        for schema in schemas {
            source_version(conn, schema)?;
        }
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "migrated sqlite schema");
    }
    conn.execute_batch(SOURCE_SCHEMA)?;
    for schema in schemas {
        let found = source_version(conn, schema)?;
        for (i, sql) in schema
            .sqlite_migrations
            .iter()
            .enumerate()
            .skip(found as usize)
        {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO source_schema (name, version) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                params![schema.name, i as i64 + 1],
            )?;
            tx.commit()?;
            tracing::info!(
                source = schema.name,
                version = i + 1,
                "migrated source schema"
            );
        }
    }
    Ok(())
}

/// The version of `schema` this data dir records (0 if none), refused if newer than
/// this build knows.
fn source_version(conn: &Connection, schema: &SourceSchema) -> Result<i64, StoreError> {
    let known = schema.sqlite_migrations.len() as i64;
    let found: i64 = conn
        .query_row(
            "SELECT version FROM source_schema WHERE name = ?1",
            [schema.name],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    if found > known {
        return Err(StoreError::SourceSchemaTooNew {
            source_name: schema.name.to_owned(),
            found,
            known,
        });
    }
    Ok(found)
}
