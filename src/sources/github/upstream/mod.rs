//! The GitHub API client, on octocrab's authenticated transport. Every request goes
//! to the credential with the most budget left, REST GETs are conditional (a 304 costs
//! no quota), and rate limits pause work instead of failing it.

mod auth;
mod budget;
mod cache;
pub mod graphql;
pub mod rest;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use serde::Serialize;

pub use self::auth::Credential;
use self::auth::Credentials;
pub use self::budget::Window;
use self::budget::{now_ms, retry_after};
use self::cache::EtagCache;
use crate::sources::github::GithubApiConfig;

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("no GitHub credentials: set github.token (RECKON_GITHUB_TOKEN) or github.app_id")]
    NoCredentials,
    #[error("cannot set up the GitHub client: {0}")]
    Setup(String),
    #[error("GitHub rate limit: no budget until {until}")]
    RateLimited {
        until: chrono::DateTime<chrono::Utc>,
    },
    #[error("GitHub answered {status} for {path}: {message}")]
    Status {
        path: String,
        status: StatusCode,
        message: Box<str>,
    },
    #[error("GitHub request {path} failed")]
    Transport {
        path: String,
        #[source]
        source: Box<octocrab::Error>,
    },
    #[error("GitHub's answer to {path} is not what Reckon expects: {message}")]
    Decode { path: String, message: String },
    #[error("GraphQL errors from GitHub: {0}")]
    Graphql(String),
}

impl GithubError {
    /// Whether trying again later can succeed: rate limits, 5xx, network failures.
    pub fn retryable(&self) -> bool {
        match self {
            GithubError::RateLimited { .. } | GithubError::Transport { .. } => true,
            GithubError::Status { status, .. } => status.is_server_error(),
            _ => false,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, GithubError::Status { status, .. } if *status == StatusCode::NOT_FOUND)
    }
}

/// A response body and the URL of the next page, if any.
#[derive(Debug, Clone)]
pub struct Reply {
    pub body: Bytes,
    pub next: Option<String>,
    /// Served from the ETag cache after a 304.
    pub not_modified: bool,
}

impl Reply {
    pub fn json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, GithubError> {
        serde_json::from_slice(&self.body).map_err(|e| GithubError::Decode {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }
}

/// Request counts since the client was built, for metrics and the cost benchmark.
#[derive(Debug, Default, Serialize)]
pub struct Counters {
    pub requests: AtomicU64,
    pub graphql: AtomicU64,
    pub not_modified: AtomicU64,
    pub rate_limited: AtomicU64,
    pub retries: AtomicU64,
}

/// A snapshot of the counters and of each credential's windows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Usage {
    pub requests: u64,
    pub graphql: u64,
    pub not_modified: u64,
    pub rate_limited: u64,
    pub retries: u64,
    pub budgets: Vec<CredentialBudget>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CredentialBudget {
    pub credential: String,
    pub resource: String,
    pub limit: u64,
    pub remaining: u64,
    pub reset: u64,
}

/// How the client paces itself; from `[github]` config.
#[derive(Debug, Clone)]
struct Pacing {
    reserve: u64,
    max_wait: Duration,
    secondary_backoff: Duration,
}

const TRANSIENT_RETRIES: u32 = 3;

pub struct GithubClient {
    credentials: Credentials,
    pacing: Pacing,
    cache: EtagCache,
    counters: Counters,
}

/// What one attempt came to.
enum Attempt {
    Done(Reply),
    /// Try again, on this or another credential, once budgets allow.
    Again,
}

impl GithubClient {
    pub fn new(config: &GithubApiConfig) -> Result<Arc<GithubClient>, GithubError> {
        Ok(Arc::new(GithubClient {
            credentials: Credentials::from_config(config)?,
            pacing: Pacing {
                reserve: config.min_remaining,
                max_wait: Duration::from_secs(config.max_wait_seconds),
                secondary_backoff: Duration::from_secs(config.secondary_backoff_seconds),
            },
            cache: EtagCache::new(4096),
            counters: Counters::default(),
        }))
    }

    pub fn usage(&self) -> Usage {
        let c = &self.counters;
        Usage {
            requests: c.requests.load(Ordering::Relaxed),
            graphql: c.graphql.load(Ordering::Relaxed),
            not_modified: c.not_modified.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            budgets: self.credentials.budgets(),
        }
    }

    /// A conditional GET of a REST path (or a full `next` URL from a previous page).
    pub async fn get(&self, org: &str, path: &str) -> Result<Reply, GithubError> {
        self.request(org, Method::GET, path, None).await
    }

    /// A POST with a JSON body; the answer's body is returned as is.
    pub async fn post(
        &self,
        org: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Reply, GithubError> {
        self.request(org, Method::POST, path, Some(body)).await
    }

    async fn request(
        &self,
        org: &str,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, GithubError> {
        let path = relative(path);
        let resource = if path.ends_with("/graphql") {
            "graphql"
        } else {
            "core"
        };
        let mut transient = 0;
        loop {
            let credential = self.credentials.pick(org, resource, &self.pacing).await?;
            match self
                .attempt(&credential, &method, &path, body, resource)
                .await
            {
                Ok(Attempt::Done(reply)) => return Ok(reply),
                Ok(Attempt::Again) => continue,
                Err(e) if e.retryable() && transient < TRANSIENT_RETRIES => {
                    transient += 1;
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    let delay = Duration::from_millis(250 * 2u64.pow(transient));
                    tracing::warn!(error = %e, attempt = transient, ?delay, "github request failed; retrying");
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn attempt(
        &self,
        credential: &Credential,
        method: &Method,
        path: &str,
        body: Option<&serde_json::Value>,
        resource: &str,
    ) -> Result<Attempt, GithubError> {
        let cache_key = format!("{}\u{0}{path}", credential.name());
        let cached = (*method == Method::GET)
            .then(|| self.cache.get(&cache_key))
            .flatten();
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT,
            "application/vnd.github+json"
                .parse()
                .expect("static header"),
        );
        headers.insert(
            "x-github-api-version",
            "2022-11-28".parse().expect("static header"),
        );
        if let Some(cached) = &cached {
            if let Ok(v) = cached.etag.parse() {
                headers.insert(http::header::IF_NONE_MATCH, v);
            }
        }
        let transport = |source| GithubError::Transport {
            path: format!("{method} {path}"),
            source: Box::new(source),
        };
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        if resource == "graphql" {
            self.counters.graphql.fetch_add(1, Ordering::Relaxed);
        }
        let response = credential
            .send(method.clone(), path, headers, body)
            .await
            .map_err(transport)?;
        let (parts, raw) = response.into_parts();
        credential.observe(&parts.headers);
        let bytes = raw.collect().await.map_err(transport)?.to_bytes();
        let status = parts.status;
        let next = next_link(&parts.headers);
        if status == StatusCode::NOT_MODIFIED {
            if let Some(cached) = cached {
                self.counters.not_modified.fetch_add(1, Ordering::Relaxed);
                return Ok(Attempt::Done(Reply {
                    body: cached.body,
                    next: cached.next,
                    not_modified: true,
                }));
            }
        }
        if status.is_success() {
            if *method == Method::GET {
                if let Some(etag) = parts
                    .headers
                    .get(http::header::ETAG)
                    .and_then(|v| v.to_str().ok())
                {
                    self.cache
                        .put(cache_key, etag.to_owned(), bytes.clone(), next.clone());
                }
            }
            return Ok(Attempt::Done(Reply {
                body: bytes,
                next,
                not_modified: false,
            }));
        }
        let message = error_message(&bytes);
        if status == StatusCode::FORBIDDEN || status == StatusCode::TOO_MANY_REQUESTS {
            let window = budget::window_of(&parts.headers);
            let wait = retry_after(&parts.headers);
            let spent = window.as_ref().is_some_and(|(_, w)| w.remaining == 0);
            let secondary = message
                .to_ascii_lowercase()
                .contains("secondary rate limit")
                || message.to_ascii_lowercase().contains("abuse");
            if wait.is_some() || spent || secondary || status == StatusCode::TOO_MANY_REQUESTS {
                self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                match (wait, window) {
                    (Some(wait), _) => {
                        tracing::warn!(
                            credential = credential.name(),
                            wait_s = wait.as_secs(),
                            path,
                            "github secondary rate limit; pausing"
                        );
                        credential.pause_until(now_ms() + wait.as_millis() as u64);
                    }
                    (None, Some((resource, w))) if w.remaining == 0 => {
                        tracing::warn!(
                            credential = credential.name(),
                            resource,
                            reset = w.reset,
                            "github rate limit spent; waiting for the reset"
                        );
                        credential.exhaust(&resource, w.reset);
                    }
                    _ => {
                        let wait = self.pacing.secondary_backoff;
                        tracing::warn!(
                            credential = credential.name(),
                            wait_s = wait.as_secs(),
                            path,
                            "github secondary rate limit without retry-after; backing off"
                        );
                        credential.pause_until(now_ms() + wait.as_millis() as u64);
                    }
                }
                return Ok(Attempt::Again);
            }
        }
        Err(GithubError::Status {
            path: format!("{method} {path}"),
            status,
            message: message.into(),
        })
    }
}

/// The path and query of `url`: octocrab joins it to the configured base URL.
fn relative(url: &str) -> String {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            rest.find('/')
                .map_or("/".to_owned(), |j| rest[j..].to_owned())
        }
        None => url.to_owned(),
    }
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(http::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_and_relative_paths() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::LINK,
            "<https://api.github.com/orgs/a/repos?page=2>; rel=\"next\", <https://api.github.com/orgs/a/repos?page=5>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        let next = next_link(&headers).unwrap();
        assert_eq!(next, "https://api.github.com/orgs/a/repos?page=2");
        assert_eq!(relative(&next), "/orgs/a/repos?page=2");
        assert_eq!(relative("/orgs/a"), "/orgs/a");
        assert_eq!(
            relative("https://ghe.example.com/api/v3/orgs/a?x=1"),
            "/api/v3/orgs/a?x=1"
        );
    }
}
