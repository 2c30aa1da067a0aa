//! The SQLite schema and its migrations, tracked with `PRAGMA user_version` so a data
//! dir from an older Reckon is upgraded in place and one from a newer Reckon is refused.

use rusqlite::Connection;

use crate::store::StoreError;

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
    // Version 4: the server-events source's read model, one row per stored event, keyed
    // by the event's journal seq (its public, monotonic id).
    r#"
CREATE TABLE server_events (
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
CREATE INDEX server_events_by_source ON server_events (source, seq);
CREATE INDEX server_events_by_time ON server_events (source, received_at, seq);
"#,
    // Version 5: payloads may be stored with encoding 2 (zstd with payload dictionary v1,
    // see payload.rs). No table changes: an older Reckon refuses this data dir up front
    // instead of failing on those rows.
    "-- encoding 2: zstd with payload dictionary v1\n",
    // Version 6: the journal keeps a content type per event. NULL is JSON, which every
    // row before this version is, so old rows need no rewrite.
    "ALTER TABLE events ADD COLUMN content_type TEXT;\n",
];

pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "migrated sqlite schema");
    }
    Ok(())
}
