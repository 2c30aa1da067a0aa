//! Projection of one GitHub delivery into versioned entity writes. It is a pure
//! function of (event, payload, received time), so replays and rebuilds give the same
//! writes, and the versions make applying them order-insensitive.

use super::payload::{Payload, PullRequest as RawPr, Repository, User};
use crate::model::{self, version, EntityWrite, Membership, PrState};

/// Derives the entity writes for one delivery. Payload fields that are missing or
/// malformed simply produce fewer writes; intake never fails on projection.
pub fn project(event: &str, payload: &Payload, received_at: i64) -> Vec<EntityWrite> {
    let mut writes = Vec::new();
    let action = payload.action.as_deref().unwrap_or_default();

    let org_key = org_of(payload);
    if let Some(org) = &payload.organization {
        if let Some(login) = &org.login {
            writes.push(EntityWrite::Org(model::Org {
                key: login.to_lowercase(),
                login: login.clone(),
                id: org.id,
            }));
        }
    } else if let Some(owner) = payload.repository.as_ref().and_then(|r| r.owner.as_ref()) {
        if let (Some(login), Some("Organization")) = (&owner.login, owner.kind.as_deref()) {
            writes.push(EntityWrite::Org(model::Org {
                key: login.to_lowercase(),
                login: login.clone(),
                id: owner.id,
            }));
        }
    }

    if let Some(repo) = &payload.repository {
        let deleted = event == "repository" && action == "deleted";
        if let Some(write) = repo_write(repo, deleted, received_at) {
            writes.push(write);
        }
    }

    let Some(org) = org_key else {
        return writes;
    };

    if let Some(team) = &payload.team {
        if let Some(id) = team.id {
            let deleted = team.deleted == Some(true) || (event == "team" && action == "deleted");
            writes.push(EntityWrite::Team(model::Team {
                id,
                org: org.clone(),
                slug: team.slug.clone(),
                name: team.name.clone(),
                deleted,
                version: version(received_at, u8::from(deleted)),
            }));
        }
    }

    match event {
        "membership" if payload.scope.as_deref().unwrap_or("team") == "team" => {
            let team_id = payload.team.as_ref().and_then(|t| t.id);
            let present = match action {
                "added" => Some(true),
                "removed" => Some(false),
                _ => None,
            };
            if let (Some(team_id), Some(present), Some(member)) = (
                team_id,
                present,
                membership(&org, payload.member.as_ref(), received_at),
            ) {
                if present {
                    writes.push(EntityWrite::OrgMemberSeen(member.clone()));
                }
                writes.push(EntityWrite::TeamMember {
                    team_id,
                    member: Membership { present, ..member },
                });
            }
        }
        "organization" if action == "renamed" => {
            let from = payload
                .changes
                .as_ref()
                .and_then(|c| c.login.as_ref())
                .and_then(|l| l.from.as_deref())
                .map(str::to_lowercase);
            if let Some(from) = from.filter(|from| *from != org) {
                writes.push(EntityWrite::OrgRenamed { from, to: org });
            }
        }
        "organization" => {
            let present = match action {
                "member_added" => Some(true),
                "member_removed" => Some(false),
                _ => None,
            };
            let user = payload.membership.as_ref().and_then(|m| m.user.as_ref());
            if let (Some(present), Some(member)) = (present, membership(&org, user, received_at)) {
                writes.push(EntityWrite::OrgMember(Membership { present, ..member }));
            }
        }
        "pull_request" => {
            if let (Some(pr), Some(repo)) = (&payload.pull_request, &payload.repository) {
                // A PR belongs to the org that owns its repository.
                let owner = repo
                    .owner
                    .as_ref()
                    .and_then(|o| o.login.as_deref())
                    .map_or(org, str::to_lowercase);
                if let Some(write) = pull_request(&owner, pr, repo) {
                    writes.push(EntityWrite::PullRequest(write));
                }
            }
        }
        _ => {}
    }
    writes
}

/// The org a delivery belongs to: its `organization`, else the repository owner.
fn org_of(payload: &Payload) -> Option<String> {
    payload
        .organization
        .as_ref()
        .and_then(|o| o.login.as_deref())
        .or_else(|| {
            payload
                .repository
                .as_ref()
                .and_then(|r| r.owner.as_ref())
                .and_then(|o| o.login.as_deref())
        })
        .map(str::to_lowercase)
}

pub(crate) fn repo_write(
    repo: &Repository,
    deleted: bool,
    received_at: i64,
) -> Option<EntityWrite> {
    let id = repo.id?;
    let owner = repo.owner.as_ref()?.login.as_deref()?;
    let name = repo.name.clone()?;
    let updated = repo.updated_at.or(repo.pushed_at).unwrap_or(received_at);
    Some(EntityWrite::Repo(model::Repo {
        id,
        org: owner.to_lowercase(),
        full_name: repo
            .full_name
            .clone()
            .unwrap_or_else(|| format!("{owner}/{name}")),
        name,
        private: repo.private.unwrap_or(false),
        archived: repo.archived.unwrap_or(false),
        deleted,
        version: version(updated, u8::from(deleted)),
    }))
}

fn membership(org: &str, user: Option<&User>, received_at: i64) -> Option<Membership> {
    let user = user?;
    Some(Membership {
        org: org.to_owned(),
        user_id: user.id?,
        login: user.login.clone()?,
        present: true,
        version: version(received_at, 0),
    })
}

pub(crate) fn pull_request(org: &str, pr: &RawPr, repo: &Repository) -> Option<model::PullRequest> {
    let merged_at = pr.merged_at;
    let state = if merged_at.is_some() || pr.merged == Some(true) {
        PrState::Merged
    } else if pr.state.as_deref() == Some("closed") {
        PrState::Closed
    } else {
        PrState::Open
    };
    let created_at = pr.created_at?;
    let updated_at = pr.updated_at.unwrap_or(created_at);
    let author = pr.user.as_ref()?;
    Some(model::PullRequest {
        id: pr.id?,
        org: org.to_owned(),
        repo_id: repo.id?,
        repo: repo.full_name.clone()?,
        number: pr.number?,
        title: pr.title.clone().unwrap_or_default(),
        state,
        draft: pr.draft.unwrap_or(false),
        author: author.login.clone()?,
        author_id: author.id?,
        base_ref: pr
            .base
            .as_ref()
            .and_then(|b| b.name.clone())
            .unwrap_or_default(),
        labels: pr
            .labels
            .iter()
            .flatten()
            .filter_map(|l| l.name.clone())
            .collect(),
        requested_reviewers: pr
            .requested_reviewers
            .iter()
            .flatten()
            .filter_map(|u| u.login.clone())
            .collect(),
        additions: pr.additions,
        deletions: pr.deletions,
        created_at,
        updated_at,
        closed_at: pr.closed_at,
        merged_at,
        version: version(updated_at, state.rank()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Payload {
        let full = format!(
            "{}/../shared/fixtures/github-webhooks/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(full).unwrap()).unwrap()
    }

    #[test]
    fn closed_pull_request_projects_state_and_timestamps() {
        let writes = project(
            "pull_request",
            &fixture("pull_request/closed.payload.json"),
            0,
        );
        let pr = writes
            .iter()
            .find_map(|w| match w {
                EntityWrite::PullRequest(pr) => Some(pr),
                _ => None,
            })
            .expect("a pull request write");
        assert_eq!(pr.state, PrState::Closed);
        assert_eq!(pr.org, "codertocat");
        assert_eq!(pr.repo, "Codertocat/Hello-World");
        assert_eq!(pr.author, "Codertocat");
        assert!(pr.closed_at.is_some());
        assert_eq!(pr.merged_at, None);
        assert_eq!(pr.additions, Some(1));
    }

    #[test]
    fn membership_added_writes_team_and_org_membership() {
        let writes = project(
            "membership",
            &fixture("membership/added.payload.json"),
            1000,
        );
        assert!(writes.iter().any(|w| matches!(
            w,
            EntityWrite::TeamMember { member, .. } if member.present && member.login == "Codertocat"
        )));
        assert!(writes
            .iter()
            .any(|w| matches!(w, EntityWrite::OrgMemberSeen(_))));
        assert!(writes.iter().any(|w| matches!(w, EntityWrite::Team(_))));
    }

    #[test]
    fn org_rename_moves_the_old_key() {
        let writes = project(
            "organization",
            &fixture("organization/renamed.payload.json"),
            0,
        );
        // The fixture renames Octocoders to itself: nothing to move.
        assert!(!writes
            .iter()
            .any(|w| matches!(w, EntityWrite::OrgRenamed { .. })));
        let mut payload = fixture("organization/renamed.payload.json");
        payload.changes = serde_json::from_str(r#"{"login": {"from": "OldName"}}"#).unwrap();
        let writes = project("organization", &payload, 0);
        assert!(writes.contains(&EntityWrite::OrgRenamed {
            from: "oldname".into(),
            to: "octocoders".into()
        }));
    }

    #[test]
    fn deleted_team_is_marked_deleted() {
        let writes = project(
            "membership",
            &fixture("membership/removed.with-deleted-team.payload.json"),
            1000,
        );
        assert!(writes
            .iter()
            .any(|w| matches!(w, EntityWrite::Team(t) if t.deleted)));
    }
}
