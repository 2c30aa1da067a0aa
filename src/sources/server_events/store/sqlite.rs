//! The server-events read model on SQLite: the `server_events` table (see `schema.rs`). Ids
//! are journal seqs, assigned by the single writer in commit order, so a reader never
//! sees a later id before an earlier one.

use async_trait::async_trait;
use rusqlite::{params, Connection};
use serde_json::value::RawValue;

use super::{
    DayCount, EventFilter, EventRecord, EventStats, KeyCount, PlayerCount, ServerEventStore,
};
use crate::stats::TimeRange;
use crate::store::sqlite::SqliteStore;
use crate::store::StoreError;

#[async_trait]
impl ServerEventStore for SqliteStore {
    async fn server_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        let filter = filter.clone();
        self.with_reader(move |c| events(c, &filter)).await
    }

    async fn server_event_stats(
        &self,
        source: &str,
        range: TimeRange,
        top: usize,
    ) -> Result<EventStats, StoreError> {
        let source = source.to_owned();
        self.with_reader(move |c| stats(c, &source, range, top))
            .await
    }
}

fn bounds(range: TimeRange) -> (i64, i64) {
    (range.from.unwrap_or(i64::MIN), range.to.unwrap_or(i64::MAX))
}

fn events(c: &Connection, f: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
    let (from, to) = bounds(f.range);
    let mut stmt = c.prepare_cached(
        "SELECT seq, received_at, type, src, data FROM server_events
         WHERE source = ?1 AND seq > ?2 AND received_at >= ?3 AND received_at < ?4
         ORDER BY seq LIMIT ?5",
    )?;
    let rows = stmt.query_map(
        params![f.source, f.after.unwrap_or(0), from, to, f.limit as i64],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        },
    )?;
    rows.map(|row| {
        let (id, ts, kind, src, data) = row?;
        let data = RawValue::from_string(data)
            .map_err(|e| StoreError::Corrupt(format!("server event {id} data: {e}")))?;
        Ok(EventRecord {
            id,
            ts,
            kind,
            src,
            data,
        })
    })
    .collect()
}

fn stats(
    c: &Connection,
    source: &str,
    range: TimeRange,
    top: usize,
) -> Result<EventStats, StoreError> {
    let (from, to) = bounds(range);
    let scope = "source = ?1 AND received_at >= ?2 AND received_at < ?3";
    let days = c
        .prepare_cached(&format!(
            "SELECT day, src, type, COUNT(*) FROM server_events WHERE {scope}
             GROUP BY day, src, type ORDER BY day, src, type"
        ))?
        .query_map(params![source, from, to], |r| {
            Ok(DayCount {
                day: r.get(0)?,
                src: r.get(1)?,
                kind: r.get(2)?,
                count: r.get::<_, i64>(3)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let counts = |column: &str| -> Result<Vec<KeyCount>, StoreError> {
        let sql = format!(
            "SELECT {column}, COUNT(*) AS n FROM server_events WHERE {scope} AND {column} IS NOT NULL
             GROUP BY {column} ORDER BY n DESC, {column} LIMIT 1000"
        );
        let rows = c
            .prepare_cached(&sql)?
            .query_map(params![source, from, to], |r| {
                Ok(KeyCount {
                    key: r.get(0)?,
                    count: r.get::<_, i64>(1)? as u64,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    };
    let players = |order: &str, only_winners: bool| -> Result<Vec<PlayerCount>, StoreError> {
        let having = if only_winners { "HAVING wins > 0" } else { "" };
        let sql = format!(
            "SELECT player, COUNT(*) AS games, SUM(won) AS wins FROM server_events
             WHERE {scope} AND ktyp IS NOT NULL AND player IS NOT NULL
             GROUP BY player {having} ORDER BY {order}, player LIMIT ?4"
        );
        let rows = c
            .prepare_cached(&sql)?
            .query_map(params![source, from, to, top as i64], |r| {
                Ok(PlayerCount {
                    name: r.get(0)?,
                    games: r.get::<_, i64>(1)? as u64,
                    wins: r.get::<_, i64>(2)? as u64,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    };
    Ok(EventStats {
        days,
        milestones: counts("milestone_type")?,
        games: counts("ktyp")?,
        top_by_games: players("games DESC, wins DESC", false)?,
        top_by_wins: players("wins DESC, games DESC", true)?,
    })
}
