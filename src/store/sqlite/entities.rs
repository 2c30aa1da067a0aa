//! The GitHub entity rows on SQLite, inside the write transaction: read the stored row,
//! let `sources::github::merge` decide, store what it decided and run its cascade. The
//! rules live in that one module; this file holds only the SQL.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use crate::model::{EntityWrite, Membership, Org, PrState, PullRequest, Repo, Team};
use crate::sources::github::merge::{self, Decision, MoveOrg, MovePullRequests};
use crate::store::StoreError;

/// Merges one entity write (any but a source row) into its stored row: one indexed
/// read, then a write only when the row changes. The single writer makes this safe.
pub(super) fn apply(tx: &Transaction<'_>, write: &EntityWrite) -> Result<(), StoreError> {
    match write {
        EntityWrite::Row(_) => Ok(()),
        EntityWrite::Org(o) => {
            let stored = org(tx, &o.key)?;
            let decision = merge::merge_org(stored.as_ref(), o);
            put_decided(stored.as_ref(), decision, |row| put_org(tx, row))
        }
        EntityWrite::OrgRenamed { from, to } => {
            let stored = org(tx, to)?;
            move_org(tx, &merge::rename_org(from, to, stored.as_ref()))
        }
        EntityWrite::Repo(r) => {
            let stored = repo(tx, r.id)?;
            let merged = merge::merge_repo(stored.as_ref(), r);
            put_decided(stored.as_ref(), merged.decision, |row| put_repo(tx, row))?;
            match &merged.cascade {
                Some(cascade) => move_pull_requests(tx, cascade),
                None => Ok(()),
            }
        }
        EntityWrite::Team(t) => {
            let stored = team(tx, t.id)?;
            let decision = merge::merge_team(stored.as_ref(), t);
            put_decided(stored.as_ref(), decision, |row| put_team(tx, row))
        }
        EntityWrite::OrgMember(m) => {
            let stored = org_member(tx, &m.org, m.user_id)?;
            let decision = merge::merge_org_member(stored.as_ref(), m);
            put_decided(stored.as_ref(), decision, |row| put_org_member(tx, row))
        }
        EntityWrite::OrgMemberSeen(m) => {
            let stored = org_member(tx, &m.org, m.user_id)?;
            let decision = merge::merge_org_member_seen(stored.as_ref(), m);
            put_decided(stored.as_ref(), decision, |row| put_org_member(tx, row))
        }
        EntityWrite::TeamMember { team_id, member: m } => {
            let stored = team_member(tx, *team_id, m.user_id)?;
            let decision = merge::merge_team_member(stored.as_ref(), m);
            put_decided(stored.as_ref(), decision, |row| {
                put_team_member(tx, *team_id, row)
            })
        }
        EntityWrite::PullRequest(p) => {
            let stored = pull_request(tx, p.id)?;
            let decision = merge::merge_pull_request(stored.as_ref(), p);
            put_decided(stored.as_ref(), decision, |row| put_pull_request(tx, row))
        }
    }
}

/// Writes the row the merge decided on, unless it is the stored one already.
fn put_decided<T: PartialEq>(
    stored: Option<&T>,
    decision: Decision<T>,
    put: impl FnOnce(&T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    match decision {
        Decision::Replace(row) if stored != Some(&row) => put(&row),
        Decision::Replace(_) | Decision::Keep => Ok(()),
    }
}

fn org(tx: &Transaction<'_>, key: &str) -> Result<Option<Org>, StoreError> {
    let mut stmt = tx.prepare_cached("SELECT key, login, id FROM orgs WHERE key = ?1")?;
    let row = stmt.query_row(params![key], |row| {
        Ok(Org {
            key: row.get(0)?,
            login: row.get(1)?,
            id: row.get(2)?,
        })
    });
    Ok(row.optional()?)
}

fn put_org(tx: &Transaction<'_>, o: &Org) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT OR REPLACE INTO orgs (key, login, id) VALUES (?1, ?2, ?3)")?
        .execute(params![o.key, o.login, o.id])?;
    Ok(())
}

fn repo(tx: &Transaction<'_>, id: i64) -> Result<Option<Repo>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, org, name, full_name, private, archived, deleted, version
         FROM repos WHERE id = ?1",
    )?;
    let row = stmt.query_row(params![id], |row| {
        Ok(Repo {
            id: row.get(0)?,
            org: row.get(1)?,
            name: row.get(2)?,
            full_name: row.get(3)?,
            private: row.get(4)?,
            archived: row.get(5)?,
            deleted: row.get(6)?,
            version: row.get(7)?,
        })
    });
    Ok(row.optional()?)
}

fn put_repo(tx: &Transaction<'_>, r: &Repo) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO repos (id, org, name, full_name, private, archived, deleted, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET
            org = excluded.org, name = excluded.name, full_name = excluded.full_name,
            private = excluded.private, archived = excluded.archived,
            deleted = excluded.deleted, version = excluded.version",
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
    Ok(())
}

fn team(tx: &Transaction<'_>, id: i64) -> Result<Option<Team>, StoreError> {
    let mut stmt =
        tx.prepare_cached("SELECT id, org, slug, name, deleted, version FROM teams WHERE id = ?1")?;
    let row = stmt.query_row(params![id], |row| {
        Ok(Team {
            id: row.get(0)?,
            org: row.get(1)?,
            slug: row.get(2)?,
            name: row.get(3)?,
            deleted: row.get(4)?,
            version: row.get(5)?,
        })
    });
    Ok(row.optional()?)
}

fn put_team(tx: &Transaction<'_>, t: &Team) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO teams (id, org, slug, name, deleted, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET
            org = excluded.org, slug = excluded.slug, name = excluded.name,
            deleted = excluded.deleted, version = excluded.version",
    )?
    .execute(params![t.id, t.org, t.slug, t.name, t.deleted, t.version])?;
    Ok(())
}

fn membership(row: &Row<'_>) -> rusqlite::Result<Membership> {
    Ok(Membership {
        org: row.get(0)?,
        user_id: row.get(1)?,
        login: row.get(2)?,
        present: row.get(3)?,
        version: row.get(4)?,
    })
}

fn org_member(
    tx: &Transaction<'_>,
    org: &str,
    user_id: i64,
) -> Result<Option<Membership>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT org, user_id, login, present, version FROM org_members
         WHERE org = ?1 AND user_id = ?2",
    )?;
    Ok(stmt
        .query_row(params![org, user_id], membership)
        .optional()?)
}

fn put_org_member(tx: &Transaction<'_>, m: &Membership) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO org_members (org, user_id, login, present, version)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![m.org, m.user_id, m.login, m.present, m.version])?;
    Ok(())
}

fn team_member(
    tx: &Transaction<'_>,
    team_id: i64,
    user_id: i64,
) -> Result<Option<Membership>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT org, user_id, login, present, version FROM team_members
         WHERE team_id = ?1 AND user_id = ?2",
    )?;
    Ok(stmt
        .query_row(params![team_id, user_id], membership)
        .optional()?)
}

fn put_team_member(tx: &Transaction<'_>, team_id: i64, m: &Membership) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO team_members (team_id, user_id, org, login, present, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        team_id, m.user_id, m.org, m.login, m.present, m.version
    ])?;
    Ok(())
}

const PR_COLUMNS: &str = "id, org, repo_id, repo, number, title, state, draft, author, author_id,
    base_ref, labels, requested_reviewers, additions, deletions, created_at, updated_at,
    closed_at, merged_at, version";

fn pull_request(tx: &Transaction<'_>, id: i64) -> Result<Option<PullRequest>, StoreError> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {PR_COLUMNS} FROM pull_requests WHERE id = ?1"
    ))?;
    let mut rows = stmt.query(params![id])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let corrupt = |what: &str| StoreError::Corrupt(format!("stored PR {id}: {what}"));
    let state: String = row.get(6)?;
    let list = |i: usize| -> Result<Vec<String>, StoreError> {
        let json: String = row.get(i)?;
        serde_json::from_str(&json).map_err(|e| corrupt(&e.to_string()))
    };
    Ok(Some(PullRequest {
        id: row.get(0)?,
        org: row.get(1)?,
        repo_id: row.get(2)?,
        repo: row.get(3)?,
        number: row.get(4)?,
        title: row.get(5)?,
        state: PrState::from_stored(&state)
            .ok_or_else(|| corrupt(&format!("unknown state `{state}`")))?,
        draft: row.get(7)?,
        author: row.get(8)?,
        author_id: row.get(9)?,
        base_ref: row.get(10)?,
        labels: list(11)?,
        requested_reviewers: list(12)?,
        additions: row.get(13)?,
        deletions: row.get(14)?,
        created_at: row.get(15)?,
        updated_at: row.get(16)?,
        closed_at: row.get(17)?,
        merged_at: row.get(18)?,
        version: row.get(19)?,
    }))
}

fn put_pull_request(tx: &Transaction<'_>, p: &PullRequest) -> Result<(), StoreError> {
    let labels = serde_json::to_string(&p.labels).expect("strings serialize");
    let reviewers = serde_json::to_string(&p.requested_reviewers).expect("strings serialize");
    tx.prepare_cached(&format!(
        "INSERT INTO pull_requests ({PR_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
         ON CONFLICT (id) DO UPDATE SET
            org = excluded.org, repo_id = excluded.repo_id, repo = excluded.repo,
            number = excluded.number, title = excluded.title, state = excluded.state,
            draft = excluded.draft, author = excluded.author, author_id = excluded.author_id,
            base_ref = excluded.base_ref, labels = excluded.labels,
            requested_reviewers = excluded.requested_reviewers, additions = excluded.additions,
            deletions = excluded.deletions, created_at = excluded.created_at,
            updated_at = excluded.updated_at, closed_at = excluded.closed_at,
            merged_at = excluded.merged_at, version = excluded.version"
    ))?
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
    Ok(())
}

/// Points every pull request of the repo at its new place.
fn move_pull_requests(tx: &Transaction<'_>, to: &MovePullRequests) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE pull_requests SET org = ?2, repo = ?3
         WHERE repo_id = ?1 AND (org != ?2 OR repo != ?3)",
    )?
    .execute(params![to.repo_id, to.org, to.full_name])?;
    Ok(())
}

/// Moves everything under org key `from` to `to` (a member already stored under `to`
/// is replaced by the moved one), then drops the org row `from`.
fn move_org(tx: &Transaction<'_>, to: &MoveOrg) -> Result<(), StoreError> {
    // Renames are rare: their statements are not worth a place in the statement cache.
    for table in ["repos", "teams", "org_members", "team_members"] {
        tx.execute(
            &format!("UPDATE OR REPLACE {table} SET org = ?2 WHERE org = ?1"),
            params![to.from, to.to],
        )?;
    }
    let prs: Vec<(i64, String)> = tx
        .prepare("SELECT id, repo FROM pull_requests WHERE org = ?1")?
        .query_map(params![to.from], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare("UPDATE pull_requests SET org = ?2, repo = ?3 WHERE id = ?1")?;
    for (id, repo) in prs {
        update.execute(params![id, to.to, to.pull_request_repo(&repo)])?;
    }
    tracing::debug!(from = %to.from, to = %to.to, "org renamed; its rows moved");
    tx.execute("DELETE FROM orgs WHERE key = ?1", params![to.from])?;
    Ok(())
}
