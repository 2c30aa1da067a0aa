//! The GitHub read model's merge rules, written once: how one versioned entity write
//! meets the stored row (newest version wins, deletions stick, missing fields keep their
//! stored value, a moved repo or org carries its children). Pure; both backends call it.

use crate::model::{Membership, Org, PullRequest, Repo, Team};

/// What a write does to the one stored row it lands on. A deletion is a state of the
/// row (`deleted`), not its removal, so it is a `Replace` like any other change.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<T> {
    /// The stored row stands: the write is older than it, or may only create a row.
    Keep,
    /// The row to store in place of the stored one (possibly equal to it).
    Replace(T),
}

impl<T> Decision<T> {
    /// The row to store, if any.
    pub fn into_row(self) -> Option<T> {
        match self {
            Decision::Keep => None,
            Decision::Replace(row) => Some(row),
        }
    }
}

/// A repo now stored at a new place (a rename, a transfer to another org, or a repo
/// seen for the first time): every pull request of `repo_id` points at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovePullRequests {
    pub repo_id: i64,
    pub org: String,
    pub full_name: String,
}

/// An org login change: everything stored under org key `from` moves to `to`, pull
/// requests' repo names take the org's `login`, and the org row `from` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveOrg {
    pub from: String,
    pub to: String,
    pub login: String,
}

impl MoveOrg {
    /// A moved pull request's repo name: the owner part follows the new login, the
    /// repo's own name stays. A name without an owner part is left as it is.
    pub fn pull_request_repo(&self, repo: &str) -> String {
        match repo.split_once('/') {
            Some((_, name)) => format!("{}/{name}", self.login),
            None => repo.to_owned(),
        }
    }
}

/// A repo write's decision and what it carries along.
#[derive(Debug, Clone, PartialEq)]
pub struct RepoMerge {
    pub decision: Decision<Repo>,
    pub cascade: Option<MovePullRequests>,
}

/// Orgs carry no version: the newest write's login wins, and an id once known stays.
pub fn merge_org(stored: Option<&Org>, write: &Org) -> Decision<Org> {
    Decision::Replace(Org {
        id: write.id.or(stored.and_then(|s| s.id)),
        ..write.clone()
    })
}

/// Whether a write at `version` (deleting or not) loses to a stored row: an older
/// write loses, except a deletion of a live row, which always applies.
fn loses(version: i64, deleted: bool, stored_version: i64, stored_deleted: bool) -> bool {
    version < stored_version && (stored_deleted || !deleted)
}

/// Newest version wins and a deletion sticks: the stored version and deletion are
/// kept if higher, every other field comes from the write. A changed place moves PRs.
pub fn merge_repo(stored: Option<&Repo>, write: &Repo) -> RepoMerge {
    let row = match stored {
        Some(s) if loses(write.version, write.deleted, s.version, s.deleted) => {
            return RepoMerge {
                decision: Decision::Keep,
                cascade: None,
            }
        }
        Some(s) => Repo {
            deleted: write.deleted || s.deleted,
            version: write.version.max(s.version),
            ..write.clone()
        },
        None => write.clone(),
    };
    RepoMerge {
        cascade: repo_cascade(stored, &row),
        decision: Decision::Replace(row),
    }
}

/// What a repo's pull requests must follow when the stored repo goes from `before`
/// to `after`: nothing if it stays where it was, else its new org and full name.
/// Backends that merge several writes before storing compare the first and last rows.
pub fn repo_cascade(before: Option<&Repo>, after: &Repo) -> Option<MovePullRequests> {
    let same_place = before.is_some_and(|b| b.org == after.org && b.full_name == after.full_name);
    (!same_place).then(|| MovePullRequests {
        repo_id: after.id,
        org: after.org.clone(),
        full_name: after.full_name.clone(),
    })
}

/// As repos, and a slug or name the write lacks keeps its stored value.
pub fn merge_team(stored: Option<&Team>, write: &Team) -> Decision<Team> {
    let Some(s) = stored else {
        return Decision::Replace(write.clone());
    };
    if loses(write.version, write.deleted, s.version, s.deleted) {
        return Decision::Keep;
    }
    Decision::Replace(Team {
        slug: write.slug.clone().or_else(|| s.slug.clone()),
        name: write.name.clone().or_else(|| s.name.clone()),
        deleted: write.deleted || s.deleted,
        version: write.version.max(s.version),
        ..write.clone()
    })
}

/// Memberships: a write at least as new as the stored one replaces it whole.
fn merge_membership(stored: Option<&Membership>, write: &Membership) -> Decision<Membership> {
    match stored {
        Some(s) if write.version < s.version => Decision::Keep,
        _ => Decision::Replace(write.clone()),
    }
}

/// An org membership event (member added or removed).
pub fn merge_org_member(stored: Option<&Membership>, write: &Membership) -> Decision<Membership> {
    merge_membership(stored, write)
}

/// A user seen in a team of the org: a present member at version 0, only where the org
/// has no row for them, so any real organization event wins over it.
pub fn merge_org_member_seen(
    stored: Option<&Membership>,
    write: &Membership,
) -> Decision<Membership> {
    match stored {
        Some(_) => Decision::Keep,
        None => Decision::Replace(Membership {
            present: true,
            version: 0,
            ..write.clone()
        }),
    }
}

/// A team membership event; the team id is the row's key, not part of the merge.
pub fn merge_team_member(stored: Option<&Membership>, write: &Membership) -> Decision<Membership> {
    merge_membership(stored, write)
}

/// Newest version wins; sizes (`additions`, `deletions`) a newer payload lacks keep
/// their stored value.
pub fn merge_pull_request(
    stored: Option<&PullRequest>,
    write: &PullRequest,
) -> Decision<PullRequest> {
    let Some(s) = stored else {
        return Decision::Replace(write.clone());
    };
    if write.version < s.version {
        return Decision::Keep;
    }
    Decision::Replace(PullRequest {
        additions: write.additions.or(s.additions),
        deletions: write.deletions.or(s.deletions),
        ..write.clone()
    })
}

/// An org renamed from `from` to `to`: its children move, PR repo names following the
/// login stored for `to` (written just before the rename), else `to` itself.
pub fn rename_org(from: &str, to: &str, stored_to: Option<&Org>) -> MoveOrg {
    MoveOrg {
        from: from.to_owned(),
        to: to.to_owned(),
        login: stored_to.map_or_else(|| to.to_owned(), |o| o.login.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PrState;

    fn repo(org: &str, name: &str, deleted: bool, version: i64) -> Repo {
        Repo {
            id: 7,
            org: org.to_lowercase(),
            name: name.into(),
            full_name: format!("{org}/{name}"),
            private: false,
            archived: false,
            deleted,
            version,
        }
    }

    fn team(slug: Option<&str>, deleted: bool, version: i64) -> Team {
        Team {
            id: 3,
            org: "acme".into(),
            slug: slug.map(Into::into),
            name: slug.map(str::to_uppercase),
            deleted,
            version,
        }
    }

    fn member(login: &str, present: bool, version: i64) -> Membership {
        Membership {
            org: "acme".into(),
            user_id: 42,
            login: login.into(),
            present,
            version,
        }
    }

    fn pr(title: &str, additions: Option<i64>, version: i64) -> PullRequest {
        PullRequest {
            id: 9,
            org: "acme".into(),
            repo_id: 7,
            repo: "Acme/api".into(),
            number: 1,
            title: title.into(),
            state: PrState::Open,
            draft: false,
            author: "ann".into(),
            author_id: 1,
            base_ref: "main".into(),
            labels: vec![],
            requested_reviewers: vec![],
            additions,
            deletions: additions,
            created_at: 0,
            updated_at: version,
            closed_at: None,
            merged_at: None,
            version,
        }
    }

    /// (stored version, write version, whether the write applies), for every
    /// versioned entity: newer and equal versions apply, older ones are ignored.
    const VERSIONS: [(i64, i64, bool); 3] = [(10, 20, true), (10, 10, true), (20, 10, false)];

    #[test]
    fn newest_version_wins_and_equal_versions_apply_for_every_entity() {
        for (stored, write, applies) in VERSIONS {
            let case = format!("stored {stored}, write {write}");
            let (s, w) = (
                repo("Acme", "old", false, stored),
                repo("Acme", "new", false, write),
            );
            let expected = applies.then(|| Repo {
                version: stored.max(write),
                ..w.clone()
            });
            assert_eq!(
                merge_repo(Some(&s), &w).decision.into_row(),
                expected,
                "repo, {case}"
            );

            let (s, w) = (
                team(Some("old"), false, stored),
                team(Some("new"), false, write),
            );
            let expected = applies.then(|| Team {
                version: stored.max(write),
                ..w.clone()
            });
            assert_eq!(
                merge_team(Some(&s), &w).into_row(),
                expected,
                "team, {case}"
            );

            let (s, w) = (member("old", true, stored), member("new", false, write));
            let expected = applies.then(|| w.clone());
            assert_eq!(
                merge_org_member(Some(&s), &w).into_row(),
                expected,
                "org member, {case}"
            );
            assert_eq!(
                merge_team_member(Some(&s), &w).into_row(),
                expected,
                "team member, {case}"
            );

            let (s, w) = (pr("old", Some(1), stored), pr("new", Some(2), write));
            let expected = applies.then(|| w.clone());
            assert_eq!(
                merge_pull_request(Some(&s), &w).into_row(),
                expected,
                "PR, {case}"
            );
        }
    }

    #[test]
    fn a_first_write_is_stored_as_it_is() {
        let r = repo("Acme", "api", false, 5);
        assert_eq!(merge_repo(None, &r).decision, Decision::Replace(r.clone()));
        let t = team(None, true, 5);
        assert_eq!(merge_team(None, &t), Decision::Replace(t.clone()));
        let m = member("ann", false, 5);
        assert_eq!(merge_org_member(None, &m), Decision::Replace(m.clone()));
        assert_eq!(merge_team_member(None, &m), Decision::Replace(m.clone()));
        let p = pr("t", None, 5);
        assert_eq!(merge_pull_request(None, &p), Decision::Replace(p.clone()));
    }

    /// A stored row's or a write's (deleted, version).
    type Life = (bool, i64);

    /// (stored, write) → the stored row's (deleted, version) after the merge, or
    /// `None` when the write is ignored.
    const DELETIONS: [(Life, Life, Option<Life>); 5] = [
        // A deletion sticks against an older re-create...
        ((true, 10), (false, 5), None),
        // ...and against a newer write: the row changes but stays deleted.
        ((true, 10), (false, 20), Some((true, 20))),
        // An older deletion of a live row still applies, keeping the newer version.
        ((false, 10), (true, 5), Some((true, 10))),
        ((false, 10), (true, 20), Some((true, 20))),
        // An older deletion of a deleted row is ignored like any older write.
        ((true, 10), (true, 5), None),
    ];

    #[test]
    fn deletions_stick_for_repos_and_teams() {
        for ((s_deleted, s_version), (w_deleted, w_version), expected) in DELETIONS {
            let case =
                format!("stored ({s_deleted}, {s_version}), write ({w_deleted}, {w_version})");
            let s = repo("Acme", "api", s_deleted, s_version);
            let w = repo("Acme", "api", w_deleted, w_version);
            let got = merge_repo(Some(&s), &w).decision.into_row();
            assert_eq!(
                got.map(|r| (r.deleted, r.version)),
                expected,
                "repo, {case}"
            );
            let s = team(Some("core"), s_deleted, s_version);
            let w = team(Some("core"), w_deleted, w_version);
            let got = merge_team(Some(&s), &w).into_row();
            assert_eq!(
                got.map(|t| (t.deleted, t.version)),
                expected,
                "team, {case}"
            );
        }
    }

    #[test]
    fn missing_fields_keep_their_stored_value() {
        let stored = Org {
            key: "acme".into(),
            login: "Acme".into(),
            id: Some(7),
        };
        let write = Org {
            key: "acme".into(),
            login: "ACME".into(),
            id: None,
        };
        let org = merge_org(Some(&stored), &write).into_row().unwrap();
        assert_eq!((org.login.as_str(), org.id), ("ACME", Some(7)));
        let write = Org {
            id: Some(8),
            ..write
        };
        assert_eq!(
            merge_org(Some(&stored), &write).into_row().unwrap().id,
            Some(8)
        );

        let t = merge_team(Some(&team(Some("core"), false, 1)), &team(None, false, 2));
        let t = t.into_row().unwrap();
        assert_eq!(
            (t.slug.as_deref(), t.name.as_deref(), t.version),
            (Some("core"), Some("CORE"), 2)
        );

        let p = merge_pull_request(Some(&pr("old", Some(5), 1)), &pr("new", None, 2));
        let p = p.into_row().unwrap();
        assert_eq!(
            (p.title.as_str(), p.additions, p.deletions),
            ("new", Some(5), Some(5))
        );
        let p = merge_pull_request(Some(&pr("old", Some(5), 1)), &pr("new", Some(6), 2));
        assert_eq!(p.into_row().unwrap().additions, Some(6));
    }

    #[test]
    fn a_user_seen_in_a_team_is_a_member_only_until_the_org_says_otherwise() {
        let seen = member("ann", false, 99);
        let row = merge_org_member_seen(None, &seen).into_row().unwrap();
        assert_eq!((row.present, row.version), (true, 0));
        let removed = member("ann", false, 1);
        assert_eq!(merge_org_member_seen(Some(&removed), &seen), Decision::Keep);
        assert_eq!(
            merge_org_member(Some(&row), &removed),
            Decision::Replace(removed.clone())
        );
    }

    #[test]
    fn a_renamed_or_transferred_repo_carries_its_pull_requests() {
        let stored = repo("Acme", "api", false, 10);
        // (write, where its PRs go)
        let cases = [
            (repo("Acme", "api", false, 20), None),
            (repo("Acme", "api", true, 20), None),
            (repo("Acme", "api2", false, 20), Some(("acme", "Acme/api2"))),
            (
                repo("NewHome", "api", false, 20),
                Some(("newhome", "NewHome/api")),
            ),
            // An older rename loses, and moves nothing.
            (repo("Acme", "api2", false, 5), None),
        ];
        for (write, expected) in cases {
            let got = merge_repo(Some(&stored), &write).cascade;
            let expected = expected.map(|(org, full_name)| MovePullRequests {
                repo_id: 7,
                org: org.into(),
                full_name: full_name.into(),
            });
            assert_eq!(got, expected, "{}", write.full_name);
        }
        // A repo seen for the first time gathers PRs stored before it.
        assert_eq!(
            merge_repo(None, &stored).cascade.map(|m| m.full_name),
            Some("Acme/api".into())
        );
        // Several writes merged before one store: only the first and last rows count.
        assert_eq!(
            repo_cascade(Some(&stored), &repo("Acme", "api", false, 30)),
            None
        );
    }

    #[test]
    fn a_renamed_org_carries_everything_under_the_new_login() {
        let to = Org {
            key: "octocats".into(),
            login: "OctoCats".into(),
            id: None,
        };
        let moved = rename_org("octocoders", "octocats", Some(&to));
        assert_eq!(
            moved,
            MoveOrg {
                from: "octocoders".into(),
                to: "octocats".into(),
                login: "OctoCats".into()
            }
        );
        assert_eq!(
            moved.pull_request_repo("Octocoders/Hello-World"),
            "OctoCats/Hello-World"
        );
        assert_eq!(moved.pull_request_repo("no-owner"), "no-owner");
        let unknown = rename_org("octocoders", "octocats", None);
        assert_eq!(unknown.login, "octocats");
        assert_eq!(unknown.pull_request_repo("Octocoders/a/b"), "octocats/a/b");
    }
}
