//! Administrative subcommands that act on the store directly: API key management,
//! rebuilding projections, and configuration checks. They print for people and return
//! library errors.

use crate::settings::Config;
use crate::sources::server_events::submit::binding_key;
use crate::sources::SourceAuth;
use crate::store::{ApiKeyRecord, StoreError};
use crate::verify::api_key;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("source `{0}` is not configured with auth = \"api-key\"; add it to reckon.toml first:\n\n[sources.{0}]\nauth = \"api-key\"")]
    NotAnApiKeySource(String),
    #[error("`--user` is for heartbeats keys: use `--source heartbeats --user NAME`")]
    UserNeedsHeartbeats,
    #[error(transparent)]
    HeartbeatsKey(#[from] crate::sources::heartbeats::keys::KeyError),
    #[error("no live key with id `{0}`")]
    NoSuchKey(String),
    #[error("`{src}` is not a server of source `{source_name}`: its srcs are {known:?}")]
    UnknownSrc {
        source_name: String,
        src: String,
        known: Vec<String>,
    },
    #[error(
        "`{0}` is not a server name: use a-z, A-Z, 0-9, '-', '_' and '.', at most 64 characters"
    )]
    InvalidSrc(String),
}

/// Creates a key for `source`; with `src`, the key may submit events of that one
/// server only (`POST /submit`).
pub async fn keys_add(
    config: &Config,
    source: &str,
    src: Option<String>,
    name: Option<String>,
) -> Result<String, AdminError> {
    if source == crate::sources::heartbeats::SOURCE {
        return Err(AdminError::HeartbeatsKey(
            crate::sources::heartbeats::keys::KeyError::UserRequired,
        ));
    }
    let Some(source_config) = config
        .sources
        .get(source)
        .filter(|s| s.auth == SourceAuth::ApiKey)
    else {
        return Err(AdminError::NotAnApiKeySource(source.to_owned()));
    };
    if let Some(src) = &src {
        if !crate::sources::is_valid_src(src) {
            return Err(AdminError::InvalidSrc(src.clone()));
        }
        if !source_config.srcs.is_empty() && !source_config.srcs.contains(src) {
            return Err(AdminError::UnknownSrc {
                source_name: source.to_owned(),
                src: src.clone(),
                known: source_config.srcs.clone(),
            });
        }
    }
    let store = crate::open_store(config).await?;
    let key = api_key::generate();
    // The binding first: a key never exists, even for a moment, without it.
    if let Some(src) = &src {
        store
            .put_state(&binding_key(&key.id), serde_json::json!({ "src": src }))
            .await?;
    }
    store
        .create_api_key(ApiKeyRecord {
            id: key.id.clone(),
            source: source.to_owned(),
            name,
            hash: key.hash,
            created_at: String::new(),
            revoked_at: None,
        })
        .await?;
    let bound = match &src {
        Some(src) => format!(" bound to server `{src}`"),
        None => String::new(),
    };
    Ok(format!(
        "created key {id} for source `{source}`{bound}\n\n    {token}\n\nSend it as `Authorization: Bearer <key>` to POST /hooks/{source}, or (bare or as Bearer) to POST /submit. It is shown only now.",
        id = key.id,
        token = key.token
    ))
}

/// `reckon keys add --source heartbeats --user NAME`: a UUID key, the only shape
/// WakaTime clients accept, bound to the user whose coding time it sends.
pub async fn heartbeats_key_add(
    config: &Config,
    source: &str,
    user: &str,
) -> Result<String, AdminError> {
    if source != crate::sources::heartbeats::SOURCE {
        return Err(AdminError::UserNeedsHeartbeats);
    }
    let store = crate::open_store(config).await?;
    let key = crate::sources::heartbeats::keys::add(store.as_ref(), user).await?;
    let base = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    Ok(format!(
        "created heartbeats key {id} for user `{user}`\n\n    {key}\n\nIn ~/.wakatime.cfg:\n\n    [settings]\n    api_url = {base}/api/v1\n    api_key = {key}\n\nIt is shown only now.",
        id = &key[..8],
        base = base.trim_end_matches('/'),
    ))
}

/// `reckon reindex`: rebuilds every projection from the stored raw events, logging
/// progress as it goes. Safe while `reckon serve` runs on the same store.
pub async fn reindex(config: &Config) -> Result<String, AdminError> {
    let store = crate::open_store(config).await?;
    let started = std::time::Instant::now();
    let last_report = std::sync::Mutex::new(std::time::Instant::now());
    let progress: crate::store::Progress = std::sync::Arc::new(move |done, total| {
        let mut last = last_report.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= std::time::Duration::from_secs(2) || done == total {
            *last = std::time::Instant::now();
            let percent = (done * 100).checked_div(total).unwrap_or(100);
            tracing::info!(done, total, percent, "replaying stored events");
        }
    });
    let projector: crate::store::Projector = std::sync::Arc::new(crate::sources::project_stored);
    let report = store.rebuild_projections(projector, progress).await?;
    Ok(format!(
        "rebuilt the projections from {} stored events ({} entity writes; {} arrived during the rebuild) in {:.1} s",
        report.events,
        report.writes,
        report.caught_up,
        started.elapsed().as_secs_f64()
    ))
}

pub async fn keys_list(config: &Config) -> Result<String, AdminError> {
    let store = crate::open_store(config).await?;
    let keys = store.api_keys().await?;
    let bindings: std::collections::HashMap<String, String> = store
        .states("key-src/", 100_000)
        .await?
        .into_iter()
        .filter_map(|(k, v)| {
            Some((
                k.strip_prefix("key-src/")?.to_owned(),
                v["src"].as_str()?.to_owned(),
            ))
        })
        .collect();
    if keys.is_empty() {
        return Ok("no keys yet; create one with `reckon keys add --source NAME`".into());
    }
    let mut out = format!(
        "{:<14} {:<20} {:<10} {:<24} {:<26} {}\n",
        "ID", "SOURCE", "SRC", "NAME", "CREATED", "REVOKED"
    );
    for k in keys {
        out.push_str(&format!(
            "{:<14} {:<20} {:<10} {:<24} {:<26} {}\n",
            k.id,
            k.source,
            bindings.get(&k.id).map(String::as_str).unwrap_or("-"),
            k.name.as_deref().unwrap_or("-"),
            k.created_at,
            k.revoked_at.as_deref().unwrap_or("-"),
        ));
    }
    Ok(out.trim_end().to_owned())
}

pub async fn keys_revoke(config: &Config, id: &str) -> Result<String, AdminError> {
    let store = crate::open_store(config).await?;
    if store.revoke_api_key(id).await? {
        Ok(format!("revoked key {id}"))
    } else {
        Err(AdminError::NoSuchKey(id.to_owned()))
    }
}

/// `reckon setup`: creates or migrates the Elasticsearch templates, indices and
/// aliases. Idempotent; `serve` does the same at start.
pub async fn setup(config: &Config) -> Result<String, AdminError> {
    if config.store != crate::settings::StoreKind::Elasticsearch {
        return Ok(format!(
            "nothing to set up: store = {:?} creates its tables itself (set store = \"elasticsearch\" or RECKON_STORE=elasticsearch for a cluster)",
            config.store
        ));
    }
    let store = crate::store::elasticsearch::ElasticsearchStore::connect(&config.elasticsearch)?;
    let report = store.setup().await?;
    let mut out = String::new();
    let list = |names: &[String]| {
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    out.push_str(&format!(
        "templates written:   {}\n",
        list(&report.templates_written)
    ));
    out.push_str(&format!(
        "templates current:   {}\n",
        list(&report.templates_current)
    ));
    out.push_str(&format!(
        "indices created:     {}\n",
        list(&report.indices_created)
    ));
    if report.outdated.is_empty() {
        out.push_str("the index layout is current");
    } else {
        out.push_str(&format!(
            "aliases on an older layout: {}; run `reckon reindex` to rebuild them",
            report.outdated.join(", ")
        ));
    }
    Ok(out)
}

/// A redacted summary of the effective configuration.
pub fn config_summary(config: &Config) -> String {
    let mut out = format!(
        "configuration is valid\n  listen          {}\n  data_dir        {}\n  store           {:?}\n  max body bytes  {}\n  sqlite          synchronous = {:?}\n  github secrets  {}\n  sha1 allowed    {}\n",
        config.listen,
        config.data_dir.display(),
        config.store,
        config.limits.max_body_bytes,
        config.sqlite.synchronous,
        match config.github.webhook_secret.len() {
            0 => "generated in data_dir on first start".to_owned(),
            n => format!("{n} configured (redacted)"),
        },
        config.github.allow_sha1,
    );
    out.push_str(&format!(
        "  dashboard       {}\n  cors origins    {}\n",
        if !config.dashboard.enabled {
            "off"
        } else if crate::http::dashboard::is_built() {
            "on"
        } else {
            "on, but not built into this binary (needs npm at build time)"
        },
        if config.api.cors_origins.is_empty() {
            "none (same origin only)".to_owned()
        } else {
            config.api.cors_origins.join(", ")
        },
    ));
    for (name, source) in &config.sources {
        out.push_str(&format!(
            "  source {name:<8} {:?}, {} secret(s)\n",
            source.auth,
            source.secrets.len()
        ));
    }
    out.trim_end().to_owned()
}
