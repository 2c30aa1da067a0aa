//! Credentials: personal tokens, or a GitHub App authenticated per org through that
//! org's installation (octocrab mints and renews the installation tokens). Picks the
//! credential with the most budget left and waits, within bounds, when all are spent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Method};
use http_body_util::combinators::BoxBody;
use http_body_util::BodyExt;
use octocrab::Octocrab;
use secrecy::ExposeSecret;

use super::budget::{now_ms, Budget};
use super::{CredentialBudget, GithubError, Pacing};
use crate::sources::github::GithubApiConfig;

/// One way of authenticating, with its own rate-limit budget.
pub struct Credential {
    name: String,
    crab: Octocrab,
    budget: Mutex<Budget>,
}

impl Credential {
    fn new(name: String, crab: Octocrab) -> Arc<Credential> {
        Arc::new(Credential {
            name,
            crab,
            budget: Mutex::new(Budget::default()),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn budget(&self) -> std::sync::MutexGuard<'_, Budget> {
        self.budget.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn observe(&self, headers: &HeaderMap) {
        self.budget().observe(headers);
    }

    pub(super) fn pause_until(&self, until_ms: u64) {
        self.budget().pause_until(until_ms);
    }

    pub(super) fn exhaust(&self, resource: &str, reset: u64) {
        self.budget().exhaust(resource, reset);
    }

    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        headers: HeaderMap,
        body: Option<&serde_json::Value>,
    ) -> octocrab::Result<http::Response<BoxBody<Bytes, octocrab::Error>>> {
        let uri: http::Uri =
            path.parse()
                .map_err(|e: http::uri::InvalidUri| octocrab::Error::Other {
                    source: Box::new(e),
                    backtrace: std::backtrace::Backtrace::capture(),
                })?;
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (k, v) in &headers {
            builder = builder.header(k, v);
        }
        let request = self.crab.build_request(builder, body)?;
        self.crab.execute(request).await
    }
}

pub enum Credentials {
    Tokens(Vec<Arc<Credential>>),
    App {
        app: Box<Octocrab>,
        /// The installation credential of each org, found on first use.
        installations: tokio::sync::Mutex<HashMap<String, Arc<Credential>>>,
    },
}

fn builder(
    config: &GithubApiConfig,
) -> Result<
    octocrab::OctocrabBuilder<
        octocrab::NoSvc,
        octocrab::DefaultOctocrabBuilderConfig,
        octocrab::NoAuth,
        octocrab::NotLayerReady,
    >,
    GithubError,
> {
    let timeout = Some(std::time::Duration::from_secs(
        config.request_timeout_seconds,
    ));
    Octocrab::builder()
        .base_uri(config.api_url.trim_end_matches('/'))
        .map_err(|e| GithubError::Setup(format!("github.api_url: {e}")))
        .map(|b| b.set_connect_timeout(timeout).set_read_timeout(timeout))
}

/// The id of the App's installation on `org` (`GET /orgs/{org}/installation`, as the App).
async fn installation_id(app: &Octocrab, org: &str) -> Result<u64, GithubError> {
    let path = format!("/orgs/{org}/installation");
    let setup = |message: String| {
        GithubError::Setup(format!(
            "cannot find the GitHub App's installation on org {org}: {message}"
        ))
    };
    let response = app
        ._get(path.as_str())
        .await
        .map_err(|e| setup(e.to_string()))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| setup(e.to_string()))?
        .to_bytes();
    if !status.is_success() {
        return Err(setup(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )));
    }
    serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["id"].as_u64())
        .ok_or_else(|| setup("the answer has no installation id".into()))
}

impl Credentials {
    pub fn from_config(config: &GithubApiConfig) -> Result<Credentials, GithubError> {
        if let Some(app_id) = config.app_id {
            let pem = match (&config.app_private_key, &config.app_private_key_file) {
                (Some(key), _) => key.expose_secret().to_owned(),
                (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                    GithubError::Setup(format!(
                        "cannot read github.app_private_key_file {}: {e}",
                        path.display()
                    ))
                })?,
                (None, None) => return Err(GithubError::NoCredentials),
            };
            let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| {
                GithubError::Setup(format!("github.app_private_key is not an RSA PEM key: {e}"))
            })?;
            let app = builder(config)?
                .app(app_id.into(), key)
                .build()
                .map_err(|e| GithubError::Setup(e.to_string()))?;
            return Ok(Credentials::App {
                app: Box::new(app),
                installations: tokio::sync::Mutex::new(HashMap::new()),
            });
        }
        if config.token.is_empty() {
            return Err(GithubError::NoCredentials);
        }
        let tokens = config
            .token
            .iter()
            .enumerate()
            .map(|(i, token)| {
                let crab = builder(config)?
                    .personal_token(token.expose_secret().to_owned())
                    .build()
                    .map_err(|e| GithubError::Setup(e.to_string()))?;
                Ok(Credential::new(format!("token-{}", i + 1), crab))
            })
            .collect::<Result<_, GithubError>>()?;
        Ok(Credentials::Tokens(tokens))
    }

    async fn candidates(&self, org: &str) -> Result<Vec<Arc<Credential>>, GithubError> {
        match self {
            Credentials::Tokens(tokens) => Ok(tokens.clone()),
            Credentials::App { app, installations } => {
                let mut installations = installations.lock().await;
                if let Some(found) = installations.get(org) {
                    return Ok(vec![found.clone()]);
                }
                let id = installation_id(app, org).await?;
                let crab = app
                    .installation(id.into())
                    .map_err(|e| GithubError::Setup(e.to_string()))?;
                let credential = Credential::new(format!("installation-{id}"), crab);
                installations.insert(org.to_owned(), credential.clone());
                Ok(vec![credential])
            }
        }
    }

    /// The credential to use for `org` on `resource` now, waiting for a reset or the
    /// end of a pause when every credential is spent, up to `max_wait`.
    pub(super) async fn pick(
        &self,
        org: &str,
        resource: &str,
        pacing: &Pacing,
    ) -> Result<Arc<Credential>, GithubError> {
        let candidates = self.candidates(org).await?;
        loop {
            let now = now_ms();
            let best = candidates
                .iter()
                .map(|c| (c, c.budget().spendable(resource, pacing.reserve, now)))
                // Unknown budgets (never used, or past their reset) count as full.
                .max_by_key(|(_, spendable)| spendable.unwrap_or(u64::MAX));
            match best {
                Some((c, spendable)) if spendable != Some(0) => return Ok(c.clone()),
                _ => {}
            }
            let at = candidates
                .iter()
                .map(|c| c.budget().available_at(resource, pacing.reserve, now))
                .min()
                .unwrap_or(now);
            let wait = std::time::Duration::from_millis(at.saturating_sub(now));
            if wait > pacing.max_wait {
                let until = chrono::DateTime::from_timestamp_millis(at as i64).unwrap_or_default();
                return Err(GithubError::RateLimited { until });
            }
            tracing::info!(
                resource,
                wait_ms = wait.as_millis() as u64,
                "github budget spent; pausing until it resets"
            );
            tokio::time::sleep(wait.max(std::time::Duration::from_millis(10))).await;
        }
    }

    pub(super) fn budgets(&self) -> Vec<CredentialBudget> {
        let credentials: Vec<Arc<Credential>> = match self {
            Credentials::Tokens(tokens) => tokens.clone(),
            Credentials::App { installations, .. } => installations
                .try_lock()
                .map(|i| i.values().cloned().collect())
                .unwrap_or_default(),
        };
        let mut out = Vec::new();
        for c in credentials {
            let budget = c.budget();
            let mut windows: Vec<_> = budget.windows().iter().collect();
            windows.sort_by(|a, b| a.0.cmp(b.0));
            for (resource, w) in windows {
                out.push(CredentialBudget {
                    credential: c.name.clone(),
                    resource: resource.clone(),
                    limit: w.limit,
                    remaining: w.remaining,
                    reset: w.reset,
                });
            }
        }
        out
    }
}
