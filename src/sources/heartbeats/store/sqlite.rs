//! The heartbeats read model on SQLite: daily rollups per user, group and file, kept
//! exact under out-of-order arrival. Inserting a heartbeat marks its hour dirty (a
//! trigger, in the commit); a read first recomputes the local days dirty hours touch.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::{credit, window, Basis, Group, HeartbeatStore, Loaded, Slice, TimeQuery, UserSpan};
use crate::sources::heartbeats::durations::{local_day, MARGIN_MS};
use crate::store::sqlite::SqliteStore;
use crate::store::StoreError;

const HOUR_MS: i64 = 3_600_000;
/// Group columns in `Group` field order.
const GROUP_COLUMNS: &str = "project, language, editor, os, machine, category, branch";

#[async_trait]
impl HeartbeatStore for SqliteStore {
    async fn coding_time(&self, query: &TimeQuery) -> Result<Vec<Slice>, StoreError> {
        let (user, basis) = (query.user.clone(), query.basis);
        let stale = self.with_reader(move |c| is_stale(c, &user, basis)).await?;
        if stale {
            let (user, basis) = (query.user.clone(), query.basis);
            self.with_write_tx(move |tx| refresh(tx, &user, basis))
                .await?;
        }
        let query = query.clone();
        self.with_reader(move |c| read(c, &query)).await
    }

    async fn heartbeat_users(&self, user: Option<&str>) -> Result<Vec<UserSpan>, StoreError> {
        let user = user.map(str::to_owned);
        self.with_reader(move |c| users(c, user.as_deref())).await
    }
}

fn tz_name(basis: Basis) -> String {
    basis.tz.name().to_owned()
}

/// Whether the user's rollups miss heartbeats or were computed on another basis.
fn is_stale(c: &Connection, user: &str, basis: Basis) -> Result<bool, StoreError> {
    let dirty: bool = c
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM heartbeat_dirty WHERE user = ?1)")?
        .query_row([user], |r| r.get(0))?;
    if dirty {
        return Ok(true);
    }
    let stored = stored_basis(c, user)?;
    Ok(stored.is_some_and(|b| b != (tz_name(basis), basis.timeout_ms)))
}

fn stored_basis(c: &Connection, user: &str) -> Result<Option<(String, i64)>, StoreError> {
    Ok(
        c.prepare_cached(
            "SELECT timezone, timeout_ms FROM heartbeat_rollup_basis WHERE user = ?1",
        )?
        .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?,
    )
}

/// Recomputes the user's dirty days (all of them if the basis changed), in the writer.
fn refresh(tx: &Transaction<'_>, user: &str, basis: Basis) -> Result<(), StoreError> {
    if stored_basis(tx, user)? != Some((tz_name(basis), basis.timeout_ms)) {
        tx.execute("DELETE FROM heartbeat_rollups WHERE user = ?1", [user])?;
        tx.execute("DELETE FROM heartbeat_file_rollups WHERE user = ?1", [user])?;
        tx.execute(
            "INSERT OR IGNORE INTO heartbeat_dirty (user, hour)
             SELECT DISTINCT user, time_ms / 3600000 FROM heartbeats WHERE user = ?1",
            [user],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO heartbeat_rollup_basis (user, timezone, timeout_ms) VALUES (?1, ?2, ?3)",
            params![user, tz_name(basis), basis.timeout_ms],
        )?;
    }
    let hours: Vec<i64> = tx
        .prepare_cached("SELECT hour FROM heartbeat_dirty WHERE user = ?1 ORDER BY hour")?
        .query_map([user], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut days = BTreeSet::new();
    for hour in &hours {
        let from = local_day(
            hour.saturating_mul(HOUR_MS).saturating_sub(MARGIN_MS),
            basis.tz,
        );
        let to = local_day(
            (hour + 1).saturating_mul(HOUR_MS).saturating_add(MARGIN_MS),
            basis.tz,
        );
        days.extend(from.iter_days().take_while(|d| *d <= to));
    }
    for (first, last) in runs(&days) {
        recompute(tx, user, basis, first, last)?;
    }
    tx.execute("DELETE FROM heartbeat_dirty WHERE user = ?1", [user])?;
    Ok(())
}

/// Consecutive days as (first, last) runs.
fn runs(days: &BTreeSet<NaiveDate>) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for &day in days {
        match out.last_mut() {
            Some((_, last)) if last.succ_opt() == Some(day) => *last = day,
            _ => out.push((day, day)),
        }
    }
    out
}

/// Replaces the rollups of days `first..=last` with time computed from the heartbeats.
fn recompute(
    tx: &Transaction<'_>,
    user: &str,
    basis: Basis,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<(), StoreError> {
    let (from, to) = window(first, last, basis.tz);
    let beats = load(
        tx,
        user,
        from.saturating_sub(MARGIN_MS),
        to.saturating_add(MARGIN_MS),
    )?;
    let credited = credit(beats, basis, (from, to));
    let (first_s, last_s) = (first.to_string(), last.to_string());
    tx.execute(
        "DELETE FROM heartbeat_rollups WHERE user = ?1 AND day BETWEEN ?2 AND ?3",
        params![user, first_s, last_s],
    )?;
    tx.execute(
        "DELETE FROM heartbeat_file_rollups WHERE user = ?1 AND day BETWEEN ?2 AND ?3",
        params![user, first_s, last_s],
    )?;
    let mut groups: BTreeMap<(NaiveDate, &Group), i64> = BTreeMap::new();
    let mut files = tx.prepare_cached(&format!(
        "INSERT INTO heartbeat_file_rollups (user, day, {GROUP_COLUMNS}, entity, ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?;
    for ((day, (group, entity)), ms) in &credited {
        *groups.entry((*day, group)).or_default() += ms;
        let g = group;
        files.execute(params![
            user,
            day.to_string(),
            g.project,
            g.language,
            g.editor,
            g.os,
            g.machine,
            g.category,
            g.branch,
            entity,
            ms
        ])?;
    }
    let mut insert = tx.prepare_cached(&format!(
        "INSERT INTO heartbeat_rollups (user, day, {GROUP_COLUMNS}, ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    ))?;
    for ((day, g), ms) in groups {
        insert.execute(params![
            user,
            day.to_string(),
            g.project,
            g.language,
            g.editor,
            g.os,
            g.machine,
            g.category,
            g.branch,
            ms
        ])?;
    }
    Ok(())
}

fn group_from(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Group> {
    Ok(Group {
        project: r.get(at)?,
        language: r.get(at + 1)?,
        editor: r.get(at + 2)?,
        os: r.get(at + 3)?,
        machine: r.get(at + 4)?,
        category: r.get(at + 5)?,
        branch: r.get(at + 6)?,
    })
}

/// Every heartbeat of `user` in [from, to).
fn load(c: &Connection, user: &str, from: i64, to: i64) -> Result<Vec<Loaded>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT time_ms, elapsed_ms, entity, {GROUP_COLUMNS} FROM heartbeats
         WHERE user = ?1 AND time_ms >= ?2 AND time_ms < ?3"
    ))?;
    let rows = stmt.query_map(params![user, from, to], |r| {
        Ok(Loaded {
            time_ms: r.get(0)?,
            elapsed_ms: r.get(1)?,
            entity: r.get(2)?,
            group: group_from(r, 3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The rollups of a query, filtered in SQL.
fn read(c: &Connection, q: &TimeQuery) -> Result<Vec<Slice>, StoreError> {
    let table = if q.files {
        "heartbeat_file_rollups"
    } else {
        "heartbeat_rollups"
    };
    let entity = if q.files { "entity" } else { "NULL" };
    let mut sql = format!(
        "SELECT day, {GROUP_COLUMNS}, {entity}, ms FROM {table}
         WHERE user = ?1 AND day BETWEEN ?2 AND ?3"
    );
    let mut values: Vec<String> = vec![q.user.clone(), q.first.to_string(), q.last.to_string()];
    for (name, want) in super::DIMENSIONS.iter().zip(&q.filter.0) {
        if let Some(want) = want {
            values.push(want.clone());
            sql.push_str(&format!(" AND {name} = ?{}", values.len()));
        }
    }
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(&values), |r| {
        let day: String = r.get(0)?;
        Ok((
            day,
            group_from(r, 1)?,
            r.get::<_, Option<String>>(8)?,
            r.get::<_, i64>(9)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (day, group, entity, ms) = row?;
        let day = day
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("heartbeat rollup day `{day}`")))?;
        out.push(Slice {
            day,
            group,
            entity,
            ms,
        });
    }
    out.sort();
    Ok(out)
}

/// Users by name with the span of their heartbeats: a skip scan of the user index.
fn users(c: &Connection, only: Option<&str>) -> Result<Vec<UserSpan>, StoreError> {
    let names: Vec<String> = match only {
        Some(user) => vec![user.to_owned()],
        None => c
            .prepare_cached(
                "WITH RECURSIVE u(name) AS (
                   SELECT MIN(user) FROM heartbeats
                   UNION ALL
                   SELECT (SELECT MIN(user) FROM heartbeats WHERE user > u.name) FROM u
                   WHERE u.name IS NOT NULL)
                 SELECT name FROM u WHERE name IS NOT NULL",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?,
    };
    let mut first = c.prepare_cached("SELECT MIN(time_ms) FROM heartbeats WHERE user = ?1")?;
    let mut last = c.prepare_cached("SELECT MAX(time_ms) FROM heartbeats WHERE user = ?1")?;
    let mut out = Vec::new();
    for user in names {
        let first_ms: Option<i64> = first.query_row([&user], |r| r.get(0))?;
        let last_ms: Option<i64> = last.query_row([&user], |r| r.get(0))?;
        if let (Some(first_ms), Some(last_ms)) = (first_ms, last_ms) {
            out.push(UserSpan {
                user,
                first_ms,
                last_ms,
            });
        }
    }
    Ok(out)
}
