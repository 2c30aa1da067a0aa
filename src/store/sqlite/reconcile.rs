//! The reconciler's reads on SQLite: an org's snapshot in four indexed queries, which
//! dedup keys are stored, and the small state documents reports and cursors live in.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use rusqlite::{params, Connection, OptionalExtension};

use crate::stats::PrCounts;
use crate::store::snapshot::{OrgSnapshot, SnapshotRepo, SnapshotTeam};
use crate::store::StoreError;

pub fn org_snapshot(c: &Connection, org: &str) -> Result<OrgSnapshot, StoreError> {
    let repos = c
        .prepare_cached("SELECT id, name FROM repos WHERE org = ?1 AND deleted = 0 ORDER BY id")?
        .query_map([org], |r| {
            Ok(SnapshotRepo {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;

    let deleted_repos = c
        .prepare_cached("SELECT id FROM repos WHERE org = ?1 AND deleted = 1")?
        .query_map([org], |r| r.get(0))?
        .collect::<Result<BTreeSet<i64>, _>>()?;

    let mut teams: BTreeMap<i64, SnapshotTeam> = c
        .prepare_cached("SELECT id, slug FROM teams WHERE org = ?1 AND deleted = 0")?
        .query_map([org], |r| {
            Ok(SnapshotTeam {
                id: r.get(0)?,
                slug: r.get(1)?,
                members: BTreeMap::new(),
            })
        })?
        .map(|t| t.map(|t| (t.id, t)))
        .collect::<Result<_, _>>()?;
    let mut stmt = c.prepare_cached(
        "SELECT team_id, user_id, login FROM team_members WHERE org = ?1 AND present = 1",
    )?;
    let rows = stmt.query_map([org], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (team, user, login) = row?;
        if let Some(team) = teams.get_mut(&team) {
            team.members.insert(user, login);
        }
    }

    let org_members = c
        .prepare_cached("SELECT user_id, login FROM org_members WHERE org = ?1 AND present = 1")?
        .query_map([org], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<BTreeMap<i64, String>, _>>()?;

    let mut pull_requests: BTreeMap<i64, PrCounts> = BTreeMap::new();
    let mut stmt = c.prepare_cached(
        "SELECT repo_id, state, COUNT(*) FROM pull_requests WHERE org = ?1 GROUP BY repo_id, state",
    )?;
    let rows = stmt.query_map([org], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (repo, state, n) = row?;
        let counts = pull_requests.entry(repo).or_default();
        let n = n as u64;
        match state.as_str() {
            "open" => counts.open += n,
            "merged" => counts.merged += n,
            _ => counts.closed += n,
        }
    }
    Ok(OrgSnapshot {
        repos,
        deleted_repos,
        teams: teams.into_values().collect(),
        org_members,
        pull_requests,
    })
}

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
