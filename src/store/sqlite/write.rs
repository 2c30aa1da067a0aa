//! The write path: one transaction per group-commit batch. Each envelope is appended
//! to the journal unless its dedup key is known; only new envelopes apply their entity
//! writes, each guarded by its version so the newest state always wins.

use rusqlite::{params, Transaction};

use super::payload;
use crate::model::{ContentType, EntityWrite, Envelope, SourceRow, WriteOutcome};
use crate::store::StoreError;

/// NULL for JSON, as every row before content types were stored.
fn stored_content_type(content_type: ContentType) -> Option<&'static str> {
    match content_type {
        ContentType::Json => None,
        other => Some(other.as_str()),
    }
}

pub fn write_batch(
    tx: &Transaction<'_>,
    encoder: &mut payload::Encoder,
    batch: &[Envelope],
) -> Result<Vec<WriteOutcome>, StoreError> {
    let mut insert_event = tx.prepare_cached(
        "INSERT INTO events (source, dedup_key, kind, action, delivery_id, hook_id, received_at, day, encoding, payload, content_type)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (source, dedup_key) DO NOTHING",
    )?;
    let mut insert_delivery = tx.prepare_cached(
        "INSERT INTO deliveries (source, kind, action, delivery_id, hook_id, status, received_at, size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for env in batch {
        let day = chrono::DateTime::from_timestamp_millis(env.received_at)
            .unwrap_or_default()
            .date_naive()
            .to_string();
        let (encoding, payload) = encoder.encode(&env.payload);
        let inserted = insert_event.execute(params![
            env.source,
            env.dedup_key,
            env.kind,
            env.action,
            env.delivery_id,
            env.hook_id,
            env.received_at,
            day,
            encoding,
            payload,
            stored_content_type(env.content_type),
        ])?;
        let outcome = if inserted == 1 {
            WriteOutcome::Accepted
        } else {
            WriteOutcome::Duplicate
        };
        insert_delivery.execute(params![
            env.source,
            env.kind,
            env.action,
            env.delivery_id,
            env.hook_id,
            outcome.as_str(),
            env.received_at,
            env.size as i64,
        ])?;
        if outcome == WriteOutcome::Accepted {
            let event = EventKey {
                seq: tx.last_insert_rowid(),
                source: &env.source,
                received_at: env.received_at,
            };
            for write in &env.writes {
                apply(tx, write, &event)?;
            }
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// The stored event an entity write comes from: source rows are keyed by it.
pub(super) struct EventKey<'a> {
    pub seq: i64,
    pub source: &'a str,
    pub received_at: i64,
}

pub(super) fn apply(
    tx: &Transaction<'_>,
    write: &EntityWrite,
    event: &EventKey<'_>,
) -> Result<(), StoreError> {
    match write {
        EntityWrite::Row(row) => insert_row(tx, row, event)?,
        EntityWrite::Org(o) => {
            tx.prepare_cached(
                "INSERT INTO orgs (key, login, id) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET login = excluded.login, id = COALESCE(excluded.id, orgs.id)",
            )?
            .execute(params![o.key, o.login, o.id])?;
        }
        EntityWrite::OrgRenamed { from, to } => {
            for table in ["repos", "teams", "org_members", "team_members"] {
                tx.execute(
                    &format!("UPDATE OR REPLACE {table} SET org = ?2 WHERE org = ?1"),
                    params![from, to],
                )?;
            }
            tx.prepare_cached(
                "UPDATE pull_requests SET org = ?2,
                    repo = (SELECT login FROM orgs WHERE key = ?2) || substr(repo, instr(repo, '/'))
                 WHERE org = ?1",
            )?
            .execute(params![from, to])?;
            tx.prepare_cached("DELETE FROM orgs WHERE key = ?1")?
                .execute(params![from])?;
        }
        EntityWrite::Repo(r) => {
            tx.prepare_cached(
                "INSERT INTO repos (id, org, name, full_name, private, archived, deleted, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET
                    org = excluded.org, name = excluded.name, full_name = excluded.full_name,
                    private = excluded.private, archived = excluded.archived,
                    deleted = MAX(repos.deleted, excluded.deleted),
                    version = MAX(repos.version, excluded.version)
                 WHERE excluded.version >= repos.version OR excluded.deleted > repos.deleted",
            )?
            .execute(params![
                r.id,
                r.org,
                r.name,
                r.full_name,
                r.private,
                r.archived,
                r.deleted,
                r.version
            ])?;
            // A transferred or renamed repo takes its pull requests along.
            tx.prepare_cached(
                "UPDATE pull_requests SET org = r.org, repo = r.full_name
                 FROM repos r WHERE r.id = ?1 AND pull_requests.repo_id = r.id
                   AND (pull_requests.org != r.org OR pull_requests.repo != r.full_name)",
            )?
            .execute(params![r.id])?;
        }
        EntityWrite::Team(t) => {
            tx.prepare_cached(
                "INSERT INTO teams (id, org, slug, name, deleted, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET
                    org = excluded.org,
                    slug = COALESCE(excluded.slug, teams.slug),
                    name = COALESCE(excluded.name, teams.name),
                    deleted = MAX(teams.deleted, excluded.deleted),
                    version = MAX(teams.version, excluded.version)
                 WHERE excluded.version >= teams.version OR excluded.deleted > teams.deleted",
            )?
            .execute(params![t.id, t.org, t.slug, t.name, t.deleted, t.version])?;
        }
        EntityWrite::OrgMember(m) => {
            tx.prepare_cached(
                "INSERT INTO org_members (org, user_id, login, present, version)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (org, user_id) DO UPDATE SET
                    login = excluded.login, present = excluded.present, version = excluded.version
                 WHERE excluded.version >= org_members.version",
            )?
            .execute(params![m.org, m.user_id, m.login, m.present, m.version])?;
        }
        EntityWrite::OrgMemberSeen(m) => {
            // Version 0: any real organization event about this user wins over it.
            tx.prepare_cached(
                "INSERT INTO org_members (org, user_id, login, present, version)
                 VALUES (?1, ?2, ?3, 1, 0)
                 ON CONFLICT (org, user_id) DO NOTHING",
            )?
            .execute(params![m.org, m.user_id, m.login])?;
        }
        EntityWrite::TeamMember { team_id, member: m } => {
            tx.prepare_cached(
                "INSERT INTO team_members (team_id, user_id, org, login, present, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (team_id, user_id) DO UPDATE SET
                    org = excluded.org, login = excluded.login,
                    present = excluded.present, version = excluded.version
                 WHERE excluded.version >= team_members.version",
            )?
            .execute(params![
                team_id, m.user_id, m.org, m.login, m.present, m.version
            ])?;
        }
        EntityWrite::PullRequest(p) => {
            let labels = serde_json::to_string(&p.labels).expect("strings serialize");
            let reviewers =
                serde_json::to_string(&p.requested_reviewers).expect("strings serialize");
            tx.prepare_cached(
                "INSERT INTO pull_requests (id, org, repo_id, repo, number, title, state, draft,
                    author, author_id, base_ref, labels, requested_reviewers, additions, deletions,
                    created_at, updated_at, closed_at, merged_at, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
                 ON CONFLICT (id) DO UPDATE SET
                    org = excluded.org, repo_id = excluded.repo_id, repo = excluded.repo,
                    number = excluded.number, title = excluded.title, state = excluded.state,
                    draft = excluded.draft, author = excluded.author, author_id = excluded.author_id,
                    base_ref = excluded.base_ref, labels = excluded.labels,
                    requested_reviewers = excluded.requested_reviewers,
                    additions = COALESCE(excluded.additions, pull_requests.additions),
                    deletions = COALESCE(excluded.deletions, pull_requests.deletions),
                    created_at = excluded.created_at, updated_at = excluded.updated_at,
                    closed_at = excluded.closed_at, merged_at = excluded.merged_at,
                    version = excluded.version
                 WHERE excluded.version >= pull_requests.version",
            )?
            .execute(params![
                p.id,
                p.org,
                p.repo_id,
                p.repo,
                p.number,
                p.title,
                p.state.as_str(),
                p.draft,
                p.author,
                p.author_id,
                p.base_ref,
                labels,
                reviewers,
                p.additions,
                p.deletions,
                p.created_at,
                p.updated_at,
                p.closed_at,
                p.merged_at,
                p.version,
            ])?;
        }
    }
    Ok(())
}

/// Inserts a source's read-model row; a replay of the same event leaves it as it is.
/// Table and column names come from code, never from input, but are checked anyway.
fn insert_row(
    tx: &Transaction<'_>,
    row: &SourceRow,
    event: &EventKey<'_>,
) -> Result<(), StoreError> {
    let plain =
        |name: &str| !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if !plain(&row.table) || !row.fields.keys().all(|k| plain(k)) {
        return Err(StoreError::Corrupt(format!(
            "source row for table `{}` has a name that is not a plain identifier",
            row.table
        )));
    }
    let day = chrono::DateTime::from_timestamp_millis(event.received_at)
        .unwrap_or_default()
        .date_naive()
        .to_string();
    let mut columns = String::from("seq, source, received_at, day");
    let mut marks = String::from("?1, ?2, ?3, ?4");
    let mut values: Vec<rusqlite::types::Value> = vec![
        event.seq.into(),
        event.source.to_owned().into(),
        event.received_at.into(),
        day.into(),
    ];
    for (name, value) in &row.fields {
        columns.push_str(", ");
        columns.push_str(name);
        values.push(sql_value(value));
        marks.push_str(&format!(", ?{}", values.len()));
    }
    let sql = format!(
        "INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT (seq) DO NOTHING",
        table = row.table
    );
    tx.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

fn sql_value(value: &serde_json::Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as Sql;
    use serde_json::Value as Json;
    match value {
        Json::Null => Sql::Null,
        Json::Bool(b) => Sql::Integer(i64::from(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Sql::Integer(i),
            None => Sql::Real(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => Sql::Text(s.clone()),
        other => Sql::Text(other.to_string()),
    }
}
