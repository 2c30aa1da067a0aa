//! The connection to the cluster: node URLs round-robin, basic auth or an API key, an
//! optional private CA, a request timeout. Built once from config; secrets stay in
//! `secrecy` types until the transport needs them.

use std::time::Duration;

use elasticsearch::auth::Credentials;
use elasticsearch::cert::{Certificate, CertificateValidation};
use elasticsearch::http::transport::{
    MultiNodeConnectionPool, SingleNodeConnectionPool, TransportBuilder,
};
use elasticsearch::http::Url;
use elasticsearch::Elasticsearch;
use secrecy::ExposeSecret;

use crate::store::elasticsearch::ElasticsearchConfig;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("elasticsearch.url `{url}` is not a URL")]
    Url {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("cannot read elasticsearch.ca_cert `{path}`")]
    CaFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("elasticsearch.ca_cert `{path}` holds no usable PEM certificate")]
    CaPem {
        path: std::path::PathBuf,
        #[source]
        source: elasticsearch::Error,
    },
    #[error("cannot build the Elasticsearch client")]
    Build(#[source] elasticsearch::http::transport::BuildError),
    #[error("elasticsearch.api_key is set, but the cluster is OpenSearch {version}, which has no API keys: use elasticsearch.username and elasticsearch.password (an internal user of fine-grained access control) instead")]
    ApiKeyOnOpenSearch { version: String },
    #[error("the cluster refused elasticsearch.api_key (401); if it is OpenSearch, which has no API keys, use elasticsearch.username and elasticsearch.password instead")]
    ApiKeyRefused(#[source] super::cluster::EsError),
}

/// Refuses settings the cluster behind `GET /` (its `root`) cannot honour: API keys
/// are Elasticsearch's; OpenSearch answers them 401 on every request.
pub fn check_cluster(
    config: &ElasticsearchConfig,
    root: &serde_json::Value,
) -> Result<(), ClientError> {
    let version = &root["version"];
    if version["distribution"] == "opensearch" && config.api_key.is_some() {
        return Err(ClientError::ApiKeyOnOpenSearch {
            version: version["number"].as_str().unwrap_or("?").to_owned(),
        });
    }
    Ok(())
}

/// The client for `config`; nothing is sent until the first request.
pub fn build(config: &ElasticsearchConfig) -> Result<Elasticsearch, ClientError> {
    let urls = config
        .url
        .iter()
        .map(|u| {
            Url::parse(u).map_err(|source| ClientError::Url {
                url: u.clone(),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut builder = match urls.as_slice() {
        [one] => TransportBuilder::new(SingleNodeConnectionPool::new(one.clone())),
        _ => TransportBuilder::new(MultiNodeConnectionPool::round_robin(urls, None)),
    };
    if let Some(credentials) = credentials(config) {
        builder = builder.auth(credentials);
    }
    if let Some(path) = &config.ca_cert {
        let pem = std::fs::read(path).map_err(|source| ClientError::CaFile {
            path: path.clone(),
            source,
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|source| ClientError::CaPem {
            path: path.clone(),
            source,
        })?;
        builder = builder.cert_validation(CertificateValidation::Full(cert));
    }
    let transport = builder
        .timeout(Duration::from_secs(config.request_timeout_seconds))
        // The runtime-describing header is Elastic's; keep requests to what every
        // supported cluster (OpenSearch included) takes.
        .enable_meta_header(false)
        .build()
        .map_err(ClientError::Build)?;
    Ok(Elasticsearch::new(transport))
}

fn credentials(config: &ElasticsearchConfig) -> Option<Credentials> {
    if let Some(key) = &config.api_key {
        let key = key.expose_secret();
        return Some(match key.split_once(':') {
            Some((id, secret)) => Credentials::ApiKey(id.to_owned(), secret.to_owned()),
            None => Credentials::EncodedApiKey(key.to_owned()),
        });
    }
    match (&config.username, &config.password) {
        (Some(user), Some(password)) => Some(Credentials::Basic(
            user.clone(),
            password.expose_secret().to_owned(),
        )),
        _ => None,
    }
}
