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
    sqlite_projections: &[VIEWS, DROPS, "pageview_rollups", "pageview_rolled"],
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
    // Version 2: exact rollups (`store/rollups.rs`). A cell holds the additive counts of
    // a site's views in one period (`YYYY-MM-DD`, `YYYY-MM` or `YYYY-MM-DDTHH`) for one
    // grouping (`dims` bits: 1 path, 2 referrer, 4 source, 8 hourly); a period is read
    // only while `pageview_rolled` marks it. Inserting a view into a past day unmarks the
    // day and its month in the same commit; views of today never fire it.
    r#"
CREATE TABLE IF NOT EXISTS pageview_rollups (
    site           TEXT    NOT NULL,
    dims           INTEGER NOT NULL,
    period         TEXT    NOT NULL,
    path           TEXT    NOT NULL,
    referrer       TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    views          INTEGER NOT NULL,
    uniques        INTEGER NOT NULL,
    entries        INTEGER NOT NULL,
    visitors       INTEGER NOT NULL,
    entry_uniques  INTEGER NOT NULL,
    entry_visitors INTEGER NOT NULL,
    PRIMARY KEY (site, dims, period, path, referrer, source)
) WITHOUT ROWID;
-- Filtered reads (one page, referrer or source) seek by the value, then the period.
-- The counts are in the indexes too, so a read never looks a cell up by its key.
CREATE INDEX IF NOT EXISTS pageview_rollups_by_path ON pageview_rollups
    (site, dims, path, period, views, uniques, entries, visitors, entry_uniques, entry_visitors);
CREATE INDEX IF NOT EXISTS pageview_rollups_by_referrer ON pageview_rollups
    (site, dims, referrer, period, views, uniques, entries, visitors, entry_uniques, entry_visitors);
CREATE INDEX IF NOT EXISTS pageview_rollups_by_source ON pageview_rollups
    (site, dims, source, period, views, uniques, entries, visitors, entry_uniques, entry_visitors);

CREATE TABLE IF NOT EXISTS pageview_rolled (
    site   TEXT NOT NULL,
    period TEXT NOT NULL,
    PRIMARY KEY (site, period)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS pageviews_unroll AFTER INSERT ON pageviews
WHEN NEW.day < date('now') BEGIN
    DELETE FROM pageview_rolled
    WHERE site = NEW.site AND period IN (NEW.day, substr(NEW.day, 1, 7));
END;
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
