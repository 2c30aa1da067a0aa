//! Who may read what. One mechanism for every read route of every source: a request's
//! bearer token becomes a `Grant` (its scopes) once, at the edge (`guard`), and each
//! route declares which resource it reads (`Policy`); public resources need no token.
//! No token reads a private resource: 401. A token out of scope: the resource's own 404,
//! so that nothing's existence leaks.

pub mod admin;
pub mod api;
pub mod bootstrap;
mod config;
pub mod guard;
mod scope;
pub mod token;

use std::collections::HashSet;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

pub use self::config::AccessConfig;
pub use self::guard::{guard, Listener, Policy};
pub use self::scope::{InvalidScope, Resource, Scope};
use crate::http::error::ApiError;
use crate::settings::Config;
use crate::telemetry::metrics::Metrics;
use crate::verify::AuthError;

/// What one request may read: decided once per request from its listener and token.
#[derive(Debug, Clone)]
pub enum Grant {
    /// No token, on the private listener: public resources only.
    Anonymous,
    /// Any request on the public listener: public resources only, token or not.
    PublicListener,
    /// A live token.
    Token(TokenGrant),
}

#[derive(Debug, Clone)]
pub struct TokenGrant {
    /// The token's id (never the token): for logs and `GET /api/v1/token`.
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Grant {
    fn covers(&self, resource: &Resource) -> bool {
        match self {
            Grant::Token(t) => t.scopes.iter().any(|s| s.covers(resource)),
            Grant::Anonymous | Grant::PublicListener => false,
        }
    }

    /// The token id to log with a refusal.
    pub fn token_id(&self) -> &str {
        match self {
            Grant::Token(t) => &t.id,
            Grant::Anonymous | Grant::PublicListener => "-",
        }
    }
}

/// A token from configuration rather than the store: `access.admin_tokens`, and each
/// source's `read_tokens`.
struct ConfiguredToken {
    secret: SecretString,
    grant: TokenGrant,
}

/// The access rules of one running app: what is public, the configured tokens, and the
/// throttle on failed reads.
pub struct Access {
    public_orgs: HashSet<String>,
    public_sources: HashSet<String>,
    configured: Vec<ConfiguredToken>,
    /// The private listener serves `/metrics` without a token when a public listener
    /// faces the internet instead.
    pub(crate) open_metrics_on_private: bool,
    failures: DefaultKeyedRateLimiter<IpAddr>,
    pub(crate) metrics: Arc<Metrics>,
}

impl Access {
    pub fn from_config(config: &Config, metrics: Arc<Metrics>) -> Access {
        let admin = config
            .access
            .admin_tokens
            .iter()
            .enumerate()
            .map(|(i, secret)| ConfiguredToken {
                secret: secret.clone(),
                grant: TokenGrant {
                    id: format!("config-admin-{i}"),
                    name: format!("access.admin_tokens[{i}]"),
                    scopes: Scope::everything(),
                    expires_at: None,
                },
            });
        let sources = config.sources.iter().flat_map(|(name, source)| {
            source
                .read_tokens
                .iter()
                .enumerate()
                .map(move |(i, secret)| ConfiguredToken {
                    secret: secret.clone(),
                    grant: TokenGrant {
                        id: format!("config-{name}-{i}"),
                        name: format!("sources.{name}.read_tokens[{i}]"),
                        scopes: vec![Scope::Source(name.clone())],
                        expires_at: None,
                    },
                })
        });
        let per_minute =
            NonZeroU32::new(config.access.failed_reads_per_minute).unwrap_or(NonZeroU32::MIN);
        Access {
            public_orgs: config
                .github
                .public_orgs
                .iter()
                .map(|o| o.to_ascii_lowercase())
                .collect(),
            public_sources: config
                .sources
                .iter()
                .filter(|(_, s)| s.public)
                .map(|(name, _)| name.clone())
                .collect(),
            configured: admin.chain(sources).collect(),
            open_metrics_on_private: config.public_listen.is_some(),
            failures: RateLimiter::keyed(Quota::per_minute(per_minute)),
            metrics,
        }
    }

    /// Whether configuration marks `resource` readable by anyone.
    pub fn is_public(&self, resource: &Resource) -> bool {
        match resource {
            Resource::GithubOrg(org) => self.public_orgs.contains(&org.to_ascii_lowercase()),
            Resource::Source(name) => self.public_sources.contains(name),
            Resource::Admin
            | Resource::GithubDrift(_)
            | Resource::GithubEvents
            | Resource::Site(_)
            | Resource::Heartbeats(_) => false,
        }
    }

    /// Whether configuration marks anything public: otherwise a list without a token
    /// is a 401, not an empty list.
    pub fn anything_public(&self) -> bool {
        !self.public_orgs.is_empty() || !self.public_sources.is_empty()
    }

    /// Whether `grant` may read `resource`; for filtering lists.
    pub fn allows(&self, grant: &Grant, resource: &Resource) -> bool {
        self.is_public(resource) || grant.covers(resource)
    }

    /// `Ok` if `grant` may read `resource`; otherwise the answer to give instead.
    pub fn check(&self, grant: &Grant, resource: &Resource) -> Result<(), ApiError> {
        if self.allows(grant, resource) {
            return Ok(());
        }
        match grant {
            Grant::Anonymous => Err(AuthError::ReadTokenMissing.into()),
            Grant::PublicListener | Grant::Token(_) => Err(not_found(resource)),
        }
    }

    /// The configured token `presented` is, compared in constant time with each.
    fn configured(&self, presented: &str) -> Option<TokenGrant> {
        self.configured
            .iter()
            .fold(None, |found, t| {
                let hit = bool::from(
                    t.secret
                        .expose_secret()
                        .as_bytes()
                        .ct_eq(presented.as_bytes()),
                );
                if hit && found.is_none() {
                    Some(t)
                } else {
                    found
                }
            })
            .map(|t| t.grant.clone())
    }

    /// Counts one failed read from `client`; `Err(seconds)` once it has failed too often.
    fn failed(&self, client: Option<IpAddr>) -> Result<(), u64> {
        let Some(ip) = client else { return Ok(()) };
        if self.failures.len() > 100_000 {
            self.failures.retain_recent();
        }
        self.failures.check_key(&ip).map_err(|not_until| {
            use governor::clock::{Clock, DefaultClock};
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        })
    }
}

/// What a reader out of scope sees: exactly what a missing resource answers.
fn not_found(resource: &Resource) -> ApiError {
    match resource {
        Resource::GithubOrg(org) | Resource::GithubDrift(org) => {
            crate::sources::github::api::orgs::org_not_found(org)
        }
        Resource::Source(name) => ApiError::UnknownSource(name.clone()),
        Resource::GithubEvents => ApiError::UnknownSource(crate::sources::github::SOURCE.into()),
        Resource::Admin | Resource::Site(_) | Resource::Heartbeats(_) => {
            ApiError::NotFound(crate::http::ops::NO_SUCH_ENDPOINT.into())
        }
    }
}

/// The rules and the request's grant, as the guard leaves them for handlers that
/// filter lists.
#[derive(Clone)]
pub struct Reader {
    pub grant: Grant,
    pub access: Arc<Access>,
}

impl Reader {
    pub fn allows(&self, resource: &Resource) -> bool {
        self.access.allows(&self.grant, resource)
    }

    pub fn check(&self, resource: &Resource) -> Result<(), ApiError> {
        self.access.check(&self.grant, resource)
    }

    /// The user a heartbeats path names: `current` is the one user the grant's scopes
    /// name (a heartbeats key, or a token for one user); `None` when there is no one.
    pub fn heartbeats_user(&self, user: &str) -> Option<String> {
        if user != "current" {
            return Some(user.to_owned());
        }
        let Grant::Token(token) = &self.grant else {
            return None;
        };
        let mut named = token.scopes.iter().filter_map(|s| match s {
            Scope::Heartbeats(name) if name != "*" => Some(name.clone()),
            _ => None,
        });
        match (named.next(), named.next()) {
            (Some(name), None) => Some(name),
            _ => None,
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Reader, ApiError> {
        // A route outside the guard reads nothing private: fail closed.
        parts
            .extensions
            .get::<Reader>()
            .cloned()
            .ok_or_else(|| ApiError::NotFound(crate::http::ops::NO_SUCH_ENDPOINT.into()))
    }
}
