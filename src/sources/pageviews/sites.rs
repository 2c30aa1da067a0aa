//! Sites: the domains Reckon counts views for, each with the origins its pages are
//! served from, an optional token for senders without an origin (servers, log
//! uploads), and whether its live counters are public. Kept in the store, shared by
//! every replica, and registered with `reckon sites`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use clap::Subcommand;
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::settings::Config;
use crate::store::{Store, StoreError};

/// How long a process trusts what it read of a site (edits reach every replica then).
const FRESH: Duration = Duration::from_secs(5);
/// Sites one process remembers; a full cache is emptied and refilled from the store.
const CAPACITY: usize = 4096;
/// Most sites `reckon sites list` and the API list.
pub const MAX_SITES: usize = 10_000;

/// A registered site, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub domain: String,
    /// Origins whose pages may send views, e.g. `https://example.com`.
    pub origins: Vec<String>,
    /// SHA-256 (hex) of the site token, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_sha256: Option<String>,
    /// Whether anyone may read its live counters (the WebSocket's answers).
    #[serde(default)]
    pub public_live: bool,
    pub created_at: i64,
}

/// The state document holding a site.
fn site_key(domain: &str) -> String {
    format!("pageviews/site/{domain}")
}

/// A domain as sites are keyed: lowercased, without `www.`, a port or a trailing dot.
pub fn normalize_domain(domain: &str) -> Option<String> {
    let lower = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let host = lower.split(':').next().unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(host);
    let valid = !host.is_empty()
        && host.len() <= 253
        && !host.starts_with(['.', '-'])
        && !host.contains("..")
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    valid.then(|| host.to_owned())
}

/// An origin as compared: `scheme://host[:port]`, lowercased, without a trailing slash.
pub fn normalize_origin(origin: &str) -> Option<String> {
    let url = url::Url::parse(origin.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    (origin != "null").then_some(origin)
}

impl Site {
    /// Whether `origin` (an `Origin` header, or a page URL's origin) may send views.
    pub fn allows_origin(&self, origin: &str) -> bool {
        normalize_origin(origin).is_some_and(|o| self.origins.contains(&o))
    }

    /// Whether `presented` is this site's token (compared in constant time).
    pub fn token_matches(&self, presented: &str) -> bool {
        let Some(stored) = &self.token_sha256 else {
            return false;
        };
        let hash = hex::encode(crate::verify::api_key::hash(presented));
        hash.as_bytes().ct_eq(stored.as_bytes()).into()
    }

    /// Whether the request carries this site's token as `Authorization: Bearer`.
    pub fn token_in(&self, headers: &HeaderMap) -> bool {
        headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| self.token_matches(t.trim()))
    }
}

/// What one process remembers of sites, each for `FRESH`.
#[derive(Default)]
pub struct Sites {
    cache: Mutex<HashMap<String, (Instant, Option<Site>)>>,
}

impl Sites {
    /// The site registered for `domain` (any case, with or without `www.`), if any.
    pub async fn get(&self, store: &dyn Store, domain: &str) -> Result<Option<Site>, StoreError> {
        let Some(domain) = normalize_domain(domain) else {
            return Ok(None);
        };
        if let Some((at, site)) = self.lock().get(&domain) {
            if at.elapsed() < FRESH {
                return Ok(site.clone());
            }
        }
        let site = load(store, &domain).await?;
        let mut cache = self.lock();
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        cache.insert(domain, (Instant::now(), site.clone()));
        Ok(site)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<Site>)>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

async fn load(store: &dyn Store, domain: &str) -> Result<Option<Site>, StoreError> {
    let Some(doc) = store.state(&site_key(domain)).await? else {
        return Ok(None);
    };
    serde_json::from_value(doc)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("site {domain}: {e}")))
}

/// Every registered site, by domain.
pub async fn list(store: &dyn Store) -> Result<Vec<Site>, StoreError> {
    let docs = store.states("pageviews/site/", MAX_SITES).await?;
    docs.into_iter()
        .map(|(key, doc)| {
            serde_json::from_value(doc).map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))
        })
        .collect()
}

#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// Register a site (or update one): the domain its views are counted under, the
    /// origins its pages may send from, and whether its live counters are public.
    Add {
        /// The site's domain, e.g. example.com (what Plausible's tracker sends as `d`).
        domain: String,
        /// An origin whose pages may send views, e.g. https://example.com; repeat for
        /// several. Default: https://DOMAIN and https://www.DOMAIN.
        #[arg(long = "origin", value_name = "ORIGIN")]
        origins: Vec<String>,
        /// Issue a site token (printed once): senders presenting it as
        /// `Authorization: Bearer` need no allowed origin, e.g. servers and log uploads.
        #[arg(long)]
        token: bool,
        /// Let anyone read the live counters (the WebSocket answers views with counts).
        #[arg(long)]
        public_live: bool,
    },
    /// List sites with their origins (never their tokens).
    List,
    /// Remove a site: its views stay stored, new ones are refused.
    Remove {
        /// The domain shown by `reckon sites list`.
        domain: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SitesError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("`{0}` is not a domain: use letters, digits, '-' and '.', e.g. example.com")]
    InvalidDomain(String),
    #[error("`{0}` is not an origin: use scheme://host[:port], e.g. https://example.com")]
    InvalidOrigin(String),
    #[error("no site `{0}` (see `reckon sites list`)")]
    NoSuchSite(String),
}

/// `reckon sites …`, on the configured store.
pub async fn run(config: &Config, command: SitesCommand) -> Result<String, SitesError> {
    let store = crate::open_store(config).await?;
    match command {
        SitesCommand::Add {
            domain,
            origins,
            token,
            public_live,
        } => add(store.as_ref(), &domain, &origins, token, public_live).await,
        SitesCommand::List => {
            let sites = list(store.as_ref()).await?;
            if sites.is_empty() {
                return Ok("no sites: add one with `reckon sites add example.com`".into());
            }
            Ok(sites
                .iter()
                .map(|s| {
                    format!(
                        "{}  origins: {}  token: {}  live: {}",
                        s.domain,
                        s.origins.join(", "),
                        if s.token_sha256.is_some() {
                            "yes"
                        } else {
                            "no"
                        },
                        if s.public_live { "public" } else { "private" },
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
        SitesCommand::Remove { domain } => {
            let domain =
                normalize_domain(&domain).ok_or_else(|| SitesError::InvalidDomain(domain))?;
            if !store.delete_state(&site_key(&domain)).await? {
                return Err(SitesError::NoSuchSite(domain));
            }
            Ok(format!(
                "removed site {domain}: its views stay stored, new ones are refused"
            ))
        }
    }
}

/// Registers (or replaces) a site; the answer says what to put on its pages.
pub async fn add(
    store: &dyn Store,
    domain: &str,
    origins: &[String],
    token: bool,
    public_live: bool,
) -> Result<String, SitesError> {
    let domain =
        normalize_domain(domain).ok_or_else(|| SitesError::InvalidDomain(domain.to_owned()))?;
    let origins = if origins.is_empty() {
        vec![format!("https://{domain}"), format!("https://www.{domain}")]
    } else {
        origins
            .iter()
            .map(|o| normalize_origin(o).ok_or_else(|| SitesError::InvalidOrigin(o.clone())))
            .collect::<Result<_, _>>()?
    };
    let secret = token.then(|| format!("rks_{}", Alphanumeric.sample_string(&mut rand::rng(), 32)));
    let site = Site {
        domain: domain.clone(),
        origins,
        token_sha256: secret
            .as_deref()
            .map(|s| hex::encode(crate::verify::api_key::hash(s))),
        public_live,
        created_at: chrono::Utc::now().timestamp_millis(),
    };
    let doc = serde_json::to_value(&site).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store.put_state(&site_key(&domain), doc).await?;
    let mut out = format!(
        "site {domain} counts views from {}\n\nOn its pages, Plausible's tracker:\n\n    <script defer data-domain=\"{domain}\" src=\"<public_url>/js/script.js\"></script>\n\nor a beacon: GET <public_url>/api/v1/beacon?site={domain}&p=/path",
        site.origins.join(", ")
    );
    if let Some(secret) = secret {
        out.push_str(&format!(
            "\n\nSite token (shown only now; send as `Authorization: Bearer`):\n\n    {secret}"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_normalize_or_are_refused() {
        assert_eq!(
            normalize_domain("WWW.Example.com.").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            normalize_domain("example.com:8080").as_deref(),
            Some("example.com")
        );
        assert_eq!(normalize_domain("localhost").as_deref(), Some("localhost"));
        assert!(normalize_domain("exa mple.com").is_none());
        assert!(normalize_domain("").is_none());
        assert!(normalize_domain("../etc").is_none());
        assert!(normalize_domain("a/b").is_none());
    }

    #[test]
    fn origins_compare_by_scheme_host_and_port() {
        let site = Site {
            domain: "example.com".into(),
            origins: vec![normalize_origin("https://Example.com/").unwrap()],
            token_sha256: None,
            public_live: false,
            created_at: 0,
        };
        assert!(site.allows_origin("https://example.com"));
        assert!(site.allows_origin("https://EXAMPLE.com/some/page?x=1"));
        assert!(!site.allows_origin("http://example.com"));
        assert!(!site.allows_origin("https://example.com:8443"));
        assert!(!site.allows_origin("https://evil.example"));
        assert!(!site.allows_origin("null"));
    }

    #[test]
    fn tokens_match_only_themselves() {
        let site = Site {
            domain: "example.com".into(),
            origins: vec![],
            token_sha256: Some(hex::encode(crate::verify::api_key::hash("rks_abc"))),
            public_live: false,
            created_at: 0,
        };
        assert!(site.token_matches("rks_abc"));
        assert!(!site.token_matches("rks_abd"));
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer rks_abc".parse().unwrap());
        assert!(site.token_in(&headers));
    }
}
