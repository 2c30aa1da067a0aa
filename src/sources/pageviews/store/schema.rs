//! The page-views source's storage: the `pageviews` and `pageview_drops` tables on
//! SQLite and journals on Elasticsearch. Listed in `sources::SCHEMAS`; the stores
//! migrate and set it up beside their own. No IP address or User-Agent has a column.

use serde_json::{json, Value};

use crate::sources::pageviews::hit::{DROPS, VIEWS};
use crate::store::elasticsearch::layout::{boolean, date, keyword, long};
use crate::store::{EsJournal, SourceSchema};

pub const SCHEMA: SourceSchema = SourceSchema {
    name: "pageviews",
    sqlite_migrations: MIGRATIONS,
    sqlite_projections: &[VIEWS, DROPS],
    es_journals: &[
        EsJournal {
            kind: VIEWS,
            table: VIEWS,
            properties: view_properties,
        },
        EsJournal {
            kind: "pageview-drops",
            table: DROPS,
            properties: drop_properties,
        },
    ],
};

/// Each entry migrates from version `index` to `index + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    // Version 1: one row per counted hit (views and custom events, `name` tells) and
    // one per dropped hit. `IF NOT EXISTS` throughout: a store whose version record
    // was lost keeps its rows.
    r#"
CREATE TABLE IF NOT EXISTS pageviews (
    seq         INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    day         TEXT    NOT NULL,
    site        TEXT    NOT NULL,
    ts_ms       INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    via         TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    article     TEXT    NOT NULL,
    referrer    TEXT,
    ref_source  TEXT,
    entry       INTEGER NOT NULL DEFAULT 0,
    is_unique   INTEGER NOT NULL DEFAULT 0,
    visitor     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS pageviews_by_site_time ON pageviews (site, ts_ms);
CREATE INDEX IF NOT EXISTS pageviews_by_article ON pageviews (site, article);
CREATE INDEX IF NOT EXISTS pageviews_by_visitor ON pageviews (site, visitor, ts_ms);

CREATE TABLE IF NOT EXISTS pageview_drops (
    seq         INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    day         TEXT    NOT NULL,
    site        TEXT    NOT NULL,
    ts_ms       INTEGER NOT NULL,
    via         TEXT    NOT NULL,
    reason      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS pageview_drops_by_site_time ON pageview_drops (site, ts_ms);
"#,
];

fn view_properties() -> Value {
    json!({
        "seq": long(), "source": keyword(), "dedup_key": keyword(), "received_at": date(),
        "day": keyword(), "site": keyword(), "ts_ms": long(), "name": keyword(),
        "via": keyword(), "path": keyword(), "article": keyword(), "referrer": keyword(),
        "ref_source": keyword(), "entry": boolean(), "is_unique": boolean(),
        "visitor": keyword(),
    })
}

fn drop_properties() -> Value {
    json!({
        "seq": long(), "source": keyword(), "dedup_key": keyword(), "received_at": date(),
        "day": keyword(), "site": keyword(), "ts_ms": long(), "via": keyword(),
        "reason": keyword(),
    })
}
