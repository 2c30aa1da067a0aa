//! What a read token may read, as `reckon tokens add --scope` names it, and which
//! resource of the API each scope covers. Pure: no I/O, no config.

use std::fmt;
use std::str::FromStr;

/// One scope of a read token. `*` in place of a name means every one of that kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The delivery log, drift reports, the queue and metrics.
    Admin,
    /// One GitHub org's stats (login, any case), or `*`: every org and the raw events.
    Github(String),
    /// One configured source's events and stats, or `*`.
    Source(String),
    /// One site's page views, or `*`.
    Site(String),
    /// One user's coding time, or `*`.
    Heartbeats(String),
}

/// A thing the API serves that some scope must cover (unless it is public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The operational views: delivery log, queue, metrics.
    Admin,
    /// One org's stats.
    GithubOrg(String),
    /// One org's drift report: its org scope or `admin`.
    GithubDrift(String),
    /// GitHub's raw stored payloads, which span every org: `github:*` only.
    GithubEvents,
    Source(String),
    Site(String),
    Heartbeats(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{scope}` is not a scope: use admin, github:ORG, source:NAME, site:DOMAIN or heartbeats:USER (`*` for every name)")]
pub struct InvalidScope {
    pub scope: String,
}

/// `*` or a name matching it: GitHub logins and domains compare in any case.
fn matches(pattern: &str, name: &str, any_case: bool) -> bool {
    pattern == "*"
        || if any_case {
            pattern.eq_ignore_ascii_case(name)
        } else {
            pattern == name
        }
}

impl Scope {
    /// Every scope at once: what the first-start admin token holds.
    pub fn everything() -> Vec<Scope> {
        vec![
            Scope::Admin,
            Scope::Github("*".into()),
            Scope::Source("*".into()),
            Scope::Site("*".into()),
            Scope::Heartbeats("*".into()),
        ]
    }

    pub fn covers(&self, resource: &Resource) -> bool {
        match (self, resource) {
            (Scope::Admin, Resource::Admin | Resource::GithubDrift(_)) => true,
            (Scope::Github(p), Resource::GithubOrg(org) | Resource::GithubDrift(org)) => {
                matches(p, org, true)
            }
            (Scope::Github(p), Resource::GithubEvents) => p == "*",
            (Scope::Source(p), Resource::Source(name)) => matches(p, name, false),
            (Scope::Site(p), Resource::Site(domain)) => matches(p, domain, true),
            (Scope::Heartbeats(p), Resource::Heartbeats(user)) => matches(p, user, false),
            _ => false,
        }
    }
}

impl FromStr for Scope {
    type Err = InvalidScope;

    fn from_str(s: &str) -> Result<Scope, InvalidScope> {
        let invalid = || InvalidScope {
            scope: s.to_owned(),
        };
        if s == "admin" {
            return Ok(Scope::Admin);
        }
        let (kind, name) = s.split_once(':').ok_or_else(invalid)?;
        let plain = !name.is_empty()
            && name.len() <= 253
            && (name == "*"
                || name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')));
        if !plain {
            return Err(invalid());
        }
        let name = name.to_owned();
        match kind {
            "github" => Ok(Scope::Github(name.to_ascii_lowercase())),
            "source" => Ok(Scope::Source(name)),
            "site" => Ok(Scope::Site(name.to_ascii_lowercase())),
            "heartbeats" => Ok(Scope::Heartbeats(name)),
            _ => Err(invalid()),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Admin => f.write_str("admin"),
            Scope::Github(n) => write!(f, "github:{n}"),
            Scope::Source(n) => write!(f, "source:{n}"),
            Scope::Site(n) => write!(f, "site:{n}"),
            Scope::Heartbeats(n) => write!(f, "heartbeats:{n}"),
        }
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Scope, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> Scope {
        s.parse().unwrap()
    }

    #[test]
    fn scopes_parse_and_print_back() {
        for s in [
            "admin",
            "github:octo",
            "github:*",
            "source:dcss",
            "site:example.com",
            "heartbeats:ada",
        ] {
            assert_eq!(scope(s).to_string(), s);
        }
        assert_eq!(scope("github:Octo-Org").to_string(), "github:octo-org");
        for bad in [
            "",
            "admin:x",
            "github",
            "github:",
            "repo:x",
            "source:a b",
            "source:a/b",
            "Admin",
        ] {
            assert!(bad.parse::<Scope>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn each_scope_covers_its_own_kind_and_name_only() {
        let org = Resource::GithubOrg("Octo".into());
        assert!(scope("github:octo").covers(&org));
        assert!(scope("github:*").covers(&org));
        assert!(!scope("github:other").covers(&org));
        assert!(!scope("source:octo").covers(&org));
        assert!(!scope("admin").covers(&org));

        assert!(scope("github:*").covers(&Resource::GithubEvents));
        assert!(!scope("github:octo").covers(&Resource::GithubEvents));

        let drift = Resource::GithubDrift("octo".into());
        assert!(scope("admin").covers(&drift) && scope("github:octo").covers(&drift));
        assert!(!scope("github:other").covers(&drift));

        let source = Resource::Source("dcss".into());
        assert!(scope("source:dcss").covers(&source) && scope("source:*").covers(&source));
        assert!(!scope("source:DCSS").covers(&source));

        assert!(scope("site:Example.com").covers(&Resource::Site("example.COM".into())));
        assert!(scope("heartbeats:ada").covers(&Resource::Heartbeats("ada".into())));
        assert!(!scope("heartbeats:ada").covers(&Resource::Heartbeats("bob".into())));

        assert!(scope("admin").covers(&Resource::Admin));
        assert!(!scope("github:*").covers(&Resource::Admin));
    }
}
