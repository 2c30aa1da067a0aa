//! What a source declares about its storage, so adding a source touches its own folder:
//! its SQLite migrations (versioned per source, apart from the core list), the tables a
//! rebuild refills, and its Elasticsearch journal kinds with their mappings.
//!
//! The stores take the schemas as input (`sqlite::schema::migrate`, `layout::setup`
//! and friends take a `&[SourceSchema]`). Every store entry point that needs them gets
//! them from [`registered`], the one call from `src/store/` up into the sources'
//! registry (`crate::sources::SCHEMAS`): threading the list through
//! `SqliteOptions`/`ElasticsearchStore::open` would change every caller that opens a
//! store (the app, the CLI, benches and some thirty tests) for a list that is a
//! compile-time constant of the build anyway.

use serde_json::Value;

/// One source's storage, declared in its folder and listed in `sources::SCHEMAS`.
#[derive(Debug)]
pub struct SourceSchema {
    /// The name its SQLite migrations are tracked under (`source_schema.name`). Never
    /// renamed: a data dir records its version under this name.
    pub name: &'static str,
    /// Each entry migrates the source from version `index` to `index + 1`, applied in
    /// order after the core migrations, one transaction each. Append only.
    pub sqlite_migrations: &'static [&'static str],
    /// Its read-model tables, which `reckon reindex` empties and refills.
    pub sqlite_projections: &'static [&'static str],
    /// Its Elasticsearch journal kinds: monthly indices behind a read alias.
    pub es_journals: &'static [EsJournal],
}

/// A journal kind on Elasticsearch: `{prefix}-{kind}-v1-{month}` read through
/// `{prefix}-{kind}`, holding the source's read-model rows (`model::SourceRow`).
#[derive(Debug)]
pub struct EsJournal {
    /// The index kind, e.g. `server-events`.
    pub kind: &'static str,
    /// The `SourceRow::table` routed to it, e.g. `server_events`.
    pub table: &'static str,
    /// The mapping's `properties`; the store adds `dynamic: strict` and its `_meta`.
    pub properties: fn() -> Value,
}

/// The sources' schemas this build knows: the one upward call from the store into the
/// sources' registry (see the module doc).
pub fn registered() -> &'static [SourceSchema] {
    crate::sources::SCHEMAS
}

/// The registered journal of kind `kind`.
pub fn es_journal<'a>(schemas: &'a [SourceSchema], kind: &str) -> Option<&'a EsJournal> {
    schemas
        .iter()
        .flat_map(|s| s.es_journals)
        .find(|j| j.kind == kind)
}

/// The registered journal that source rows of `table` go to.
pub fn es_journal_for_table<'a>(schemas: &'a [SourceSchema], table: &str) -> Option<&'a EsJournal> {
    schemas
        .iter()
        .flat_map(|s| s.es_journals)
        .find(|j| j.table == table)
}
