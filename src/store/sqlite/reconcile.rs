//! The reconciler's reads on SQLite that are the journal's and coordination's: which
//! dedup keys are stored, and the small state documents reports and cursors live in.
//! (The org snapshot is the GitHub slice's, in `sources::github::store::sqlite`.)

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};

use crate::store::StoreError;

pub fn stored_dedup_keys(
    c: &Connection,
    source: &str,
    keys: &[String],
) -> Result<HashSet<String>, StoreError> {
    let mut stmt = c.prepare_cached("SELECT 1 FROM events WHERE source = ?1 AND dedup_key = ?2")?;
    let mut found = HashSet::new();
    for key in keys {
        if stmt.exists(params![source, key])? {
            found.insert(key.clone());
        }
    }
    Ok(found)
}

pub fn state(c: &Connection, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
    let raw: Option<String> = c
        .prepare_cached("SELECT value FROM state WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    raw.map(|raw| {
        serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("state {key}: {e}")))
    })
    .transpose()
}

pub fn put_state(c: &Connection, key: &str, value: &serde_json::Value) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO state (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        params![
            key,
            value.to_string(),
            chrono::Utc::now().timestamp_millis()
        ],
    )?;
    Ok(())
}

pub fn states(
    c: &Connection,
    prefix: &str,
    limit: usize,
) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
    // `substr` rather than LIKE: keys may hold `%` and `_`, and LIKE ignores case.
    let mut stmt = c.prepare_cached(
        "SELECT key, value FROM state WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![prefix, limit], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    rows.map(|row| {
        let (key, raw) = row?;
        let value = serde_json::from_str(&raw)
            .map_err(|e| StoreError::Corrupt(format!("state {key}: {e}")))?;
        Ok((key, value))
    })
    .collect()
}

pub fn delete_state(c: &Connection, key: &str) -> Result<bool, StoreError> {
    Ok(c.execute("DELETE FROM state WHERE key = ?1", [key])? == 1)
}

pub fn try_lock(c: &Connection, name: &str, holder: &str, ttl_ms: i64) -> Result<bool, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let n = c.execute(
        "INSERT INTO locks (name, holder, until) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
         WHERE locks.holder = excluded.holder OR locks.until <= ?4",
        params![name, holder, now + ttl_ms, now],
    )?;
    Ok(n == 1)
}
