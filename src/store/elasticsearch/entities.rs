//! Entity documents as Elasticsearch stores them (the model's rows plus the derived
//! fields the read model sorts and filters on), and the merge of a write into the
//! stored document by the rules of `sources::github::merge`, before a versioned bulk.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{EntityWrite, Membership, Org, PrState, PullRequest, Repo, Team};
use crate::sources::github::merge;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgDoc {
    pub key: String,
    pub login: String,
    pub id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoDoc {
    pub id: i64,
    pub org: String,
    pub name: String,
    pub name_sort: String,
    pub full_name: String,
    pub private: bool,
    pub archived: bool,
    pub deleted: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamDoc {
    pub id: i64,
    pub org: String,
    pub slug: Option<String>,
    pub slug_lower: Option<String>,
    pub name: Option<String>,
    /// The slug, or the id as text: the order of the team table.
    pub sort_key: String,
    pub deleted: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgMemberDoc {
    pub org: String,
    pub user_id: i64,
    pub login: String,
    pub present: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamMemberDoc {
    pub team_id: i64,
    pub org: String,
    pub user_id: i64,
    pub login: String,
    pub login_sort: String,
    pub present: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequestDoc {
    pub id: i64,
    pub org: String,
    pub repo_id: i64,
    pub repo: String,
    pub repo_lower: String,
    pub number: i64,
    pub title: String,
    pub state: PrState,
    pub draft: bool,
    pub author: String,
    pub author_lower: String,
    pub author_id: i64,
    pub base_ref: String,
    pub labels: Vec<String>,
    pub requested_reviewers: Vec<String>,
    pub additions: Option<i64>,
    pub deletions: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub merged_at: Option<i64>,
    /// Whole seconds from creation to merge, as the SQLite store computes it.
    pub time_to_merge_seconds: Option<i64>,
    pub version: i64,
}

impl PullRequestDoc {
    fn from_model(p: &PullRequest) -> PullRequestDoc {
        PullRequestDoc {
            id: p.id,
            org: p.org.clone(),
            repo_id: p.repo_id,
            repo: p.repo.clone(),
            repo_lower: p.repo.to_lowercase(),
            number: p.number,
            title: p.title.clone(),
            state: p.state,
            draft: p.draft,
            author: p.author.clone(),
            author_lower: p.author.to_lowercase(),
            author_id: p.author_id,
            base_ref: p.base_ref.clone(),
            labels: p.labels.clone(),
            requested_reviewers: p.requested_reviewers.clone(),
            additions: p.additions,
            deletions: p.deletions,
            created_at: p.created_at,
            updated_at: p.updated_at,
            closed_at: p.closed_at,
            merged_at: p.merged_at,
            time_to_merge_seconds: p.merged_at.map(|m| (m - p.created_at) / 1000),
            version: p.version,
        }
    }

    fn to_model(&self) -> PullRequest {
        PullRequest {
            id: self.id,
            org: self.org.clone(),
            repo_id: self.repo_id,
            repo: self.repo.clone(),
            number: self.number,
            title: self.title.clone(),
            state: self.state,
            draft: self.draft,
            author: self.author.clone(),
            author_id: self.author_id,
            base_ref: self.base_ref.clone(),
            labels: self.labels.clone(),
            requested_reviewers: self.requested_reviewers.clone(),
            additions: self.additions,
            deletions: self.deletions,
            created_at: self.created_at,
            updated_at: self.updated_at,
            closed_at: self.closed_at,
            merged_at: self.merged_at,
            version: self.version,
        }
    }

    /// Points the PR at a repo's new place (`merge::MovePullRequests`).
    pub fn move_to(&mut self, org: &str, repo: String) {
        self.org = org.to_owned();
        self.repo_lower = repo.to_lowercase();
        self.repo = repo;
    }
}

impl OrgDoc {
    fn from_model(o: Org) -> OrgDoc {
        OrgDoc {
            key: o.key,
            login: o.login,
            id: o.id,
        }
    }

    pub fn to_model(&self) -> Org {
        Org {
            key: self.key.clone(),
            login: self.login.clone(),
            id: self.id,
        }
    }
}

impl RepoDoc {
    fn from_model(r: Repo) -> RepoDoc {
        RepoDoc {
            name_sort: r.name.to_lowercase(),
            id: r.id,
            org: r.org,
            name: r.name,
            full_name: r.full_name,
            private: r.private,
            archived: r.archived,
            deleted: r.deleted,
            version: r.version,
        }
    }

    pub fn to_model(&self) -> Repo {
        Repo {
            id: self.id,
            org: self.org.clone(),
            name: self.name.clone(),
            full_name: self.full_name.clone(),
            private: self.private,
            archived: self.archived,
            deleted: self.deleted,
            version: self.version,
        }
    }
}

impl TeamDoc {
    fn from_model(t: Team) -> TeamDoc {
        TeamDoc {
            slug_lower: t.slug.as_ref().map(|s| s.to_lowercase()),
            sort_key: t.slug.clone().unwrap_or_else(|| t.id.to_string()),
            id: t.id,
            org: t.org,
            slug: t.slug,
            name: t.name,
            deleted: t.deleted,
            version: t.version,
        }
    }

    fn to_model(&self) -> Team {
        Team {
            id: self.id,
            org: self.org.clone(),
            slug: self.slug.clone(),
            name: self.name.clone(),
            deleted: self.deleted,
            version: self.version,
        }
    }
}

impl OrgMemberDoc {
    fn from_model(m: Membership) -> OrgMemberDoc {
        OrgMemberDoc {
            org: m.org,
            user_id: m.user_id,
            login: m.login,
            present: m.present,
            version: m.version,
        }
    }

    fn to_model(&self) -> Membership {
        Membership {
            org: self.org.clone(),
            user_id: self.user_id,
            login: self.login.clone(),
            present: self.present,
            version: self.version,
        }
    }
}

impl TeamMemberDoc {
    fn from_model(team_id: i64, m: Membership) -> TeamMemberDoc {
        TeamMemberDoc {
            team_id,
            login_sort: m.login.to_lowercase(),
            org: m.org,
            user_id: m.user_id,
            login: m.login,
            present: m.present,
            version: m.version,
        }
    }

    fn to_model(&self) -> Membership {
        Membership {
            org: self.org.clone(),
            user_id: self.user_id,
            login: self.login.clone(),
            present: self.present,
            version: self.version,
        }
    }
}

/// One stored entity document. Short-lived and merged in place, so not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum EntityDoc {
    Org(OrgDoc),
    Repo(RepoDoc),
    Team(TeamDoc),
    OrgMember(OrgMemberDoc),
    TeamMember(TeamMemberDoc),
    PullRequest(PullRequestDoc),
}

/// Where a document lives: the entity kind (an index name suffix) and its `_id`.
pub type DocKey = (&'static str, String);

impl EntityDoc {
    pub fn entity(&self) -> &'static str {
        match self {
            EntityDoc::Org(_) => "orgs",
            EntityDoc::Repo(_) => "repos",
            EntityDoc::Team(_) => "teams",
            EntityDoc::OrgMember(_) => "org-members",
            EntityDoc::TeamMember(_) => "team-members",
            EntityDoc::PullRequest(_) => "pull-requests",
        }
    }

    pub fn id(&self) -> String {
        match self {
            EntityDoc::Org(d) => d.key.clone(),
            EntityDoc::Repo(d) => d.id.to_string(),
            EntityDoc::Team(d) => d.id.to_string(),
            EntityDoc::OrgMember(d) => format!("{}/{}", d.org, d.user_id),
            EntityDoc::TeamMember(d) => format!("{}/{}", d.team_id, d.user_id),
            EntityDoc::PullRequest(d) => d.id.to_string(),
        }
    }

    /// The external version the document is written with: Reckon's version plus one,
    /// since Elasticsearch versions start at 1 and "seen in a team" writes carry 0.
    /// Orgs carry no version and are written unversioned.
    pub fn es_version(&self) -> Option<i64> {
        let v = match self {
            EntityDoc::Org(_) => return None,
            EntityDoc::Repo(d) => d.version,
            EntityDoc::Team(d) => d.version,
            EntityDoc::OrgMember(d) => d.version,
            EntityDoc::TeamMember(d) => d.version,
            EntityDoc::PullRequest(d) => d.version,
        };
        Some(v.max(0).saturating_add(1))
    }

    pub fn to_json(&self) -> Vec<u8> {
        let out = match self {
            EntityDoc::Org(d) => serde_json::to_vec(d),
            EntityDoc::Repo(d) => serde_json::to_vec(d),
            EntityDoc::Team(d) => serde_json::to_vec(d),
            EntityDoc::OrgMember(d) => serde_json::to_vec(d),
            EntityDoc::TeamMember(d) => serde_json::to_vec(d),
            EntityDoc::PullRequest(d) => serde_json::to_vec(d),
        };
        out.expect("entity documents serialize")
    }

    /// Reads a stored document of kind `entity`.
    pub fn parse(entity: &str, source: Value) -> Result<EntityDoc, serde_json::Error> {
        Ok(match entity {
            "orgs" => EntityDoc::Org(serde_json::from_value(source)?),
            "repos" => EntityDoc::Repo(serde_json::from_value(source)?),
            "teams" => EntityDoc::Team(serde_json::from_value(source)?),
            "org-members" => EntityDoc::OrgMember(serde_json::from_value(source)?),
            "team-members" => EntityDoc::TeamMember(serde_json::from_value(source)?),
            _ => EntityDoc::PullRequest(serde_json::from_value(source)?),
        })
    }
}

/// The document a write lands on; `None` for an org rename, which moves many.
pub fn key_of(write: &EntityWrite) -> Option<DocKey> {
    Some(match write {
        EntityWrite::Org(o) => ("orgs", o.key.clone()),
        EntityWrite::OrgRenamed { .. } | EntityWrite::Row(_) => return None,
        EntityWrite::Repo(r) => ("repos", r.id.to_string()),
        EntityWrite::Team(t) => ("teams", t.id.to_string()),
        EntityWrite::OrgMember(m) | EntityWrite::OrgMemberSeen(m) => {
            ("org-members", format!("{}/{}", m.org, m.user_id))
        }
        EntityWrite::TeamMember { team_id, member } => {
            ("team-members", format!("{team_id}/{}", member.user_id))
        }
        EntityWrite::PullRequest(p) => ("pull-requests", p.id.to_string()),
    })
}

/// Applies `write` to the stored document `current` by the rules of
/// `sources::github::merge`: the new document, or `None` when the stored one wins (an
/// older version arriving late). A moved repo's pull requests are the caller's to move.
pub fn merge(write: &EntityWrite, current: Option<&EntityDoc>) -> Option<EntityDoc> {
    Some(match write {
        // Renames move many documents; rows are journal documents, not entities.
        EntityWrite::OrgRenamed { .. } | EntityWrite::Row(_) => return None,
        EntityWrite::Org(o) => {
            let stored = as_org(current).map(OrgDoc::to_model);
            EntityDoc::Org(OrgDoc::from_model(
                merge::merge_org(stored.as_ref(), o).into_row()?,
            ))
        }
        EntityWrite::Repo(r) => {
            let stored = as_repo(current).map(RepoDoc::to_model);
            let row = merge::merge_repo(stored.as_ref(), r).decision.into_row()?;
            EntityDoc::Repo(RepoDoc::from_model(row))
        }
        EntityWrite::Team(t) => {
            let stored = match current {
                Some(EntityDoc::Team(c)) => Some(c.to_model()),
                _ => None,
            };
            EntityDoc::Team(TeamDoc::from_model(
                merge::merge_team(stored.as_ref(), t).into_row()?,
            ))
        }
        EntityWrite::OrgMember(m) | EntityWrite::OrgMemberSeen(m) => {
            let stored = match current {
                Some(EntityDoc::OrgMember(c)) => Some(c.to_model()),
                _ => None,
            };
            let decision = match write {
                EntityWrite::OrgMember(_) => merge::merge_org_member(stored.as_ref(), m),
                _ => merge::merge_org_member_seen(stored.as_ref(), m),
            };
            EntityDoc::OrgMember(OrgMemberDoc::from_model(decision.into_row()?))
        }
        EntityWrite::TeamMember { team_id, member } => {
            let stored = match current {
                Some(EntityDoc::TeamMember(c)) => Some(c.to_model()),
                _ => None,
            };
            let row = merge::merge_team_member(stored.as_ref(), member).into_row()?;
            EntityDoc::TeamMember(TeamMemberDoc::from_model(*team_id, row))
        }
        EntityWrite::PullRequest(p) => {
            let stored = match current {
                Some(EntityDoc::PullRequest(c)) => Some(c.to_model()),
                _ => None,
            };
            let row = merge::merge_pull_request(stored.as_ref(), p).into_row()?;
            EntityDoc::PullRequest(PullRequestDoc::from_model(&row))
        }
    })
}

fn as_org(doc: Option<&EntityDoc>) -> Option<&OrgDoc> {
    match doc {
        Some(EntityDoc::Org(d)) => Some(d),
        _ => None,
    }
}

/// The stored repo document, if `doc` is one.
pub fn as_repo(doc: Option<&EntityDoc>) -> Option<&RepoDoc> {
    match doc {
        Some(EntityDoc::Repo(d)) => Some(d),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{version, PrState, Repo};

    fn repo(deleted: bool, at: i64) -> EntityWrite {
        EntityWrite::Repo(Repo {
            id: 1,
            org: "acme".into(),
            name: "api".into(),
            full_name: "acme/api".into(),
            private: false,
            archived: false,
            deleted,
            version: version(at, u8::from(deleted)),
        })
    }

    #[test]
    fn deletions_stick_and_late_writes_lose() {
        let live = merge(&repo(false, 10), None).unwrap();
        let deleted = merge(&repo(true, 5), Some(&live)).expect("a delete always applies");
        let EntityDoc::Repo(d) = &deleted else {
            panic!()
        };
        assert!(d.deleted);
        assert_eq!(d.version, version(10, 0), "the newer version is kept");
        let revived = merge(&repo(false, 20), Some(&deleted)).unwrap();
        let EntityDoc::Repo(r) = revived else {
            panic!()
        };
        assert!(r.deleted, "a newer non-deleted write does not revive it");
        assert!(merge(&repo(false, 1), Some(&live)).is_none());
    }

    #[test]
    fn pull_requests_keep_sizes_a_newer_payload_lacks() {
        let pr = |additions, at, state: PrState| {
            EntityWrite::PullRequest(PullRequest {
                id: 1,
                org: "acme".into(),
                repo_id: 1,
                repo: "Acme/api".into(),
                number: 1,
                title: "t".into(),
                state,
                draft: false,
                author: "Ann".into(),
                author_id: 1,
                base_ref: "main".into(),
                labels: vec![],
                requested_reviewers: vec![],
                additions,
                deletions: None,
                created_at: 0,
                updated_at: at,
                closed_at: None,
                merged_at: (state == PrState::Merged).then_some(at),
                version: version(at, state.rank()),
            })
        };
        let first = merge(&pr(Some(5), 1_000, PrState::Open), None).unwrap();
        let merged = merge(&pr(None, 61_000, PrState::Merged), Some(&first)).unwrap();
        let EntityDoc::PullRequest(m) = &merged else {
            panic!()
        };
        assert_eq!(m.additions, Some(5));
        assert_eq!(m.time_to_merge_seconds, Some(61));
        assert_eq!(m.author_lower, "ann");
        assert!(merge(&pr(Some(1), 1_000, PrState::Open), Some(&merged)).is_none());
    }
}
