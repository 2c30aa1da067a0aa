//! The embedded queue: one SQLite table in `data_dir/queue.sqlite3`, shared safely by
//! every process on the machine (`serve`, `worker`, `reconcile`) through WAL and
//! immediate transactions. Rows hold a task's kind and JSON; the schema is versioned.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{
    Enqueued, Failed, Leased, Queue, QueueCounts, QueueError, RetryPolicy, Task, TaskRow,
    TaskState, LEGACY_KIND,
};

/// The schema as of `SCHEMA_VERSION`. `dedup` is the task's identity (kind and
/// canonical JSON); `spec` its JSON.
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS tasks (
    id           INTEGER PRIMARY KEY,
    dedup        TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    spec         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   INTEGER NOT NULL,
    lease_token  TEXT,
    leased_by    TEXT,
    lease_until  INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_pending ON tasks (dedup) WHERE state IN ('ready', 'leased');
CREATE INDEX IF NOT EXISTS tasks_due ON tasks (state, not_before, id);
"#;

/// `PRAGMA user_version` of a current queue file. 0: before versions, when rows held
/// only a GitHub sync spec (no `kind`) and `dedup` was that spec's JSON.
pub const SCHEMA_VERSION: i64 = 1;

/// Brings the file to `SCHEMA_VERSION` in one immediate transaction, so processes
/// opening it at once migrate it once.
fn migrate(conn: &mut Connection) -> Result<(), QueueError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version < 1 {
        let has_table = tx
            .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tasks'")?
            .exists([])?;
        let has_kind = has_table
            && tx
                .prepare("SELECT 1 FROM pragma_table_info('tasks') WHERE name = 'kind'")?
                .exists([])?;
        if has_table && !has_kind {
            // Every row so far is a GitHub sync task.
            tx.execute_batch(&format!(
                "ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT '{LEGACY_KIND}'"
            ))?;
        }
        tx.execute_batch(SCHEMA)?;
        // Old dedup keys were the spec's JSON; they become the task's identity. A row
        // whose JSON does not parse keeps its key (it dies when leased).
        let rows: Vec<(i64, String, String)> = tx
            .prepare("SELECT id, kind, spec FROM tasks")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (id, kind, spec) in rows {
            if let Ok(payload) = serde_json::from_str(&spec) {
                let task = Task { kind, payload };
                tx.execute(
                    "UPDATE OR IGNORE tasks SET dedup = ?2 WHERE id = ?1",
                    params![id, task.identity()],
                )?;
            }
        }
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

#[derive(Clone)]
pub struct SqliteQueue {
    conn: Arc<Mutex<Connection>>,
    policy: RetryPolicy,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The columns `row` reads, in its order.
const ROW_COLUMNS: &str =
    "id, spec, state, attempts, not_before, last_error, created_at, updated_at, kind";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(TaskRow, String)> {
    let spec: String = r.get(1)?;
    Ok((
        TaskRow {
            id: r.get(0)?,
            // The payload is filled in by the caller, which can report bad JSON properly.
            spec: Task {
                kind: r.get(8)?,
                payload: serde_json::Value::Null,
            },
            state: TaskState::parse(&r.get::<_, String>(2)?),
            attempts: r.get(3)?,
            not_before: r.get(4)?,
            last_error: r.get(5)?,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        },
        spec,
    ))
}

fn parse_spec(id: i64, kind: String, spec: &str) -> Result<Task, QueueError> {
    let payload = serde_json::from_str(spec).map_err(|e| QueueError::BadSpec {
        id,
        message: e.to_string(),
    })?;
    Ok(Task { kind, payload })
}

impl SqliteQueue {
    pub fn open(path: &Path, policy: RetryPolicy) -> Result<SqliteQueue, QueueError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| QueueError::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "wal")?;
        conn.pragma_update(None, "synchronous", "normal")?;
        migrate(&mut conn)?;
        Ok(SqliteQueue {
            conn: Arc::new(Mutex::new(conn)),
            policy,
        })
    }

    async fn with<T, F>(&self, f: F) -> Result<T, QueueError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, RetryPolicy) -> Result<T, QueueError> + Send + 'static,
    {
        let (conn, policy) = (self.conn.clone(), self.policy);
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn, policy)
        })
        .await?
    }
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn enqueue(&self, spec: &Task) -> Result<Enqueued, QueueError> {
        let (dedup, kind, json) = (spec.identity(), spec.kind.clone(), spec.canonical_json());
        self.with(move |c, _| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM tasks WHERE dedup = ?1 AND state IN ('ready', 'leased')",
                    [&dedup],
                    |r| r.get(0),
                )
                .optional()?;
            let out = match existing {
                Some(id) => Enqueued { id, added: false },
                None => {
                    let now = now_ms();
                    tx.execute(
                        "INSERT INTO tasks (dedup, kind, spec, state, not_before, created_at, updated_at)
                         VALUES (?1, ?2, ?3, 'ready', ?4, ?4, ?4)",
                        params![dedup, kind, json, now],
                    )?;
                    Enqueued {
                        id: tx.last_insert_rowid(),
                        added: true,
                    }
                }
            };
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn lease(
        &self,
        worker: &str,
        visibility: Duration,
    ) -> Result<Option<Leased>, QueueError> {
        let worker = worker.to_owned();
        self.with(move |c, policy| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_ms();
            loop {
                let due: Option<(i64, String, String, u32, String)> = tx
                    .query_row(
                        "SELECT id, spec, state, attempts, kind FROM tasks
                         WHERE (state = 'ready' AND not_before <= ?1)
                            OR (state = 'leased' AND lease_until <= ?1)
                         ORDER BY not_before, id LIMIT 1",
                        [now],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                    )
                    .optional()?;
                let Some((id, spec, state, attempts, kind)) = due else {
                    tx.commit()?;
                    return Ok(None);
                };
                if state == "leased" && attempts >= policy.max_attempts {
                    tx.execute(
                        "UPDATE tasks SET state = 'dead', lease_token = NULL, updated_at = ?2,
                         last_error = COALESCE(last_error || '; ', '') || 'lease expired: the worker stopped or timed out'
                         WHERE id = ?1",
                        params![id, now],
                    )?;
                    tracing::warn!(task = id, attempts, "task dead-lettered after its last lease expired");
                    continue;
                }
                let spec = match parse_spec(id, kind, &spec) {
                    Ok(spec) => spec,
                    Err(e) => {
                        tx.execute(
                            "UPDATE tasks SET state = 'dead', last_error = ?2, updated_at = ?3 WHERE id = ?1",
                            params![id, e.to_string(), now],
                        )?;
                        continue;
                    }
                };
                let token = format!("{:016x}", rand::random::<u64>());
                tx.execute(
                    "UPDATE tasks SET state = 'leased', attempts = attempts + 1, lease_token = ?2,
                     leased_by = ?3, lease_until = ?4, updated_at = ?5 WHERE id = ?1",
                    params![id, token, worker, now + visibility.as_millis() as i64, now],
                )?;
                tx.commit()?;
                return Ok(Some(Leased {
                    id,
                    spec,
                    attempt: attempts + 1,
                    token,
                }));
            }
        })
        .await
    }

    async fn extend(&self, lease: &Leased, visibility: Duration) -> Result<bool, QueueError> {
        let (id, token) = (lease.id, lease.token.clone());
        self.with(move |c, _| {
            let now = now_ms();
            let n = c.execute(
                "UPDATE tasks SET lease_until = ?3, updated_at = ?4
                 WHERE id = ?1 AND state = 'leased' AND lease_token = ?2",
                params![id, token, now + visibility.as_millis() as i64, now],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn complete(&self, lease: &Leased) -> Result<bool, QueueError> {
        let (id, token) = (lease.id, lease.token.clone());
        self.with(move |c, _| {
            let n = c.execute(
                "UPDATE tasks SET state = 'done', lease_token = NULL, updated_at = ?3
                 WHERE id = ?1 AND state = 'leased' AND lease_token = ?2",
                params![id, token, now_ms()],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn fail(
        &self,
        lease: &Leased,
        error: &str,
        retryable: bool,
        retry_at: Option<i64>,
    ) -> Result<Failed, QueueError> {
        let (id, token, error) = (lease.id, lease.token.clone(), error.to_owned());
        self.with(move |c, policy| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let attempts: Option<u32> = tx
                .query_row(
                    "SELECT attempts FROM tasks WHERE id = ?1 AND state = 'leased' AND lease_token = ?2",
                    params![id, token],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(attempts) = attempts else {
                tx.commit()?;
                return Ok(Failed::LeaseLost);
            };
            let now = now_ms();
            let out = if retryable && attempts < policy.max_attempts {
                let at = (now + policy.delay(attempts).as_millis() as i64).max(retry_at.unwrap_or(0));
                tx.execute(
                    "UPDATE tasks SET state = 'ready', not_before = ?2, lease_token = NULL,
                     last_error = ?3, updated_at = ?4 WHERE id = ?1",
                    params![id, at, error, now],
                )?;
                Failed::RetryAt(at)
            } else {
                tx.execute(
                    "UPDATE tasks SET state = 'dead', lease_token = NULL, last_error = ?2,
                     updated_at = ?3 WHERE id = ?1",
                    params![id, error, now],
                )?;
                Failed::Dead
            };
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn list(
        &self,
        state: Option<TaskState>,
        limit: usize,
    ) -> Result<Vec<TaskRow>, QueueError> {
        self.with(move |c, _| {
            let sql = format!(
                "SELECT {ROW_COLUMNS} FROM tasks WHERE (?1 IS NULL OR state = ?1) ORDER BY id LIMIT ?2"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt
                .query_map(params![state.map(TaskState::as_str), limit as i64], row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(mut task, spec)| {
                    task.spec = parse_spec(task.id, task.spec.kind, &spec)?;
                    Ok(task)
                })
                .collect()
        })
        .await
    }

    async fn get(&self, id: i64) -> Result<Option<TaskRow>, QueueError> {
        self.with(move |c, _| {
            let found = c
                .prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM tasks WHERE id = ?1"))?
                .query_row([id], row)
                .optional()?;
            found
                .map(|(mut task, spec)| {
                    task.spec = parse_spec(task.id, task.spec.kind, &spec)?;
                    Ok(task)
                })
                .transpose()
        })
        .await
    }

    async fn retry(&self, id: i64) -> Result<bool, QueueError> {
        self.with(move |c, _| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let dedup: Option<String> = tx
                .query_row("SELECT dedup FROM tasks WHERE id = ?1 AND state = 'dead'", [id], |r| r.get(0))
                .optional()?;
            let Some(dedup) = dedup else {
                tx.commit()?;
                return Ok(false);
            };
            // An identical task already pending makes this one redundant.
            let pending: bool = tx
                .prepare("SELECT 1 FROM tasks WHERE dedup = ?1 AND state IN ('ready', 'leased')")?
                .exists([&dedup])?;
            let now = now_ms();
            if pending {
                tx.execute("DELETE FROM tasks WHERE id = ?1", [id])?;
            } else {
                tx.execute(
                    "UPDATE tasks SET state = 'ready', attempts = 0, not_before = ?2, updated_at = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn purge(&self, state: TaskState) -> Result<u64, QueueError> {
        self.with(move |c, _| {
            Ok(c.execute("DELETE FROM tasks WHERE state = ?1", [state.as_str()])? as u64)
        })
        .await
    }

    async fn counts(&self) -> Result<QueueCounts, QueueError> {
        self.with(|c, _| {
            let mut counts = QueueCounts::default();
            let mut stmt = c.prepare_cached("SELECT state, COUNT(*) FROM tasks GROUP BY state")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for r in rows {
                let (state, n) = r?;
                counts.add(TaskState::parse(&state), n as u64);
            }
            Ok(counts)
        })
        .await
    }
}
