//! `POST /api/v1/beacon/log?site=…`: an access-log upload, authenticated by the site's
//! token. The body is read as it arrives and counted line by line on the blocking pool,
//! so a gigabyte needs no gigabyte of memory; the answer comes once every line is stored.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use futures_util::StreamExt;
use serde::Deserialize;

use super::import::{ImportError, ImportSummary, Inputs, Job};
use super::input::{Input, InputError};
use super::mask::Mask;
use super::options::ReadOptions;
use crate::http::error::ApiError;
use crate::http::query::ApiQuery;
use crate::http::AppState;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The site's registered domain.
    site: Option<String>,
    /// The line format: `auto` (the default), `combined`, `common`, `vhost_combined`,
    /// `vhost_common`, `json`, `nginx:<log_format>` or `goaccess:<specifiers>`.
    format: Option<String>,
}

/// `POST /api/v1/beacon/log`: counts an access log into the site's page views.
#[utoipa::path(post, path = "/api/v1/beacon/log", tag = "pageviews", operation_id = "log_upload",
    params(UploadParams),
    request_body(content = String, content_type = "text/plain",
        description = "An access log: plain text or gzip (told by its first bytes). Lines already stored by an earlier upload or import are not counted again."),
    responses(
        (status = 200, body = Object, description = "the import summary: the format, lines read, unreadable lines by reason (the first ones by number), views, what was not a view and why, lines newly stored and lines stored before"),
        (status = 400, body = crate::http::error::ErrorBody),
        (status = 401, body = crate::http::error::ErrorBody, description = "no or a wrong site token (`site_token_required`)"),
        (status = 403, body = crate::http::error::ErrorBody, description = "no such site (`unknown_site`)"),
        (status = 413, body = crate::http::error::ErrorBody, description = "over `pageviews.logs.max_upload_bytes`"),
        (status = 503, body = crate::http::error::ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportSummary>, ApiError> {
    let unavailable = |e| ApiError::StoreUnavailable(std::sync::Arc::new(e));
    let domain = params
        .site
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid_query("site", "name the site: ?site=example.com"))?;
    let site = state
        .pageviews
        .sites
        .get(state.store.as_ref(), &domain)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| ApiError::UnknownSite(crate::sources::pageviews::hit::clip(&domain, 253)))?;
    if !site.token_in(&headers) {
        return Err(ApiError::SiteTokenRequired(site.domain));
    }
    let config = &state.config.pageviews.logs;
    let limit = config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let options = ReadOptions {
        format: params.format.unwrap_or_else(|| "auto".into()),
        count_assets: false,
        count_redirects: false,
    };
    let (reader, rules) = options
        .build(config)
        .map_err(|e| ApiError::invalid_query("format", e.to_string()))?;
    let mask = Mask::new(config.mask_ipv4, config.mask_ipv6).unwrap_or_default();
    let store = state.store.clone();
    let job = Job::new(
        store.as_ref(),
        &state.config,
        &site.domain,
        reader,
        rules,
        mask,
    )
    .await
    .map_err(import_error)?;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let inputs: Inputs = Box::new(std::iter::once_with(move || {
        Input::from_reader(
            "upload".into(),
            Box::new(Chunks {
                rx,
                current: Bytes::new(),
            }),
        )
    }));
    let (pumped, imported) = tokio::join!(pump(body, tx, limit), job.run(store.as_ref(), inputs));
    pumped?;
    Ok(Json(imported.map_err(import_error)?))
}

/// Feeds the body to the reader, counting its bytes against the limit.
async fn pump(
    body: Body,
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    limit: u64,
) -> Result<(), ApiError> {
    let mut stream = body.into_data_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let failed = match chunk {
            Ok(bytes) => {
                total += bytes.len() as u64;
                if total > limit {
                    Err(too_large(limit))
                } else {
                    if tx.send(Ok(bytes)).await.is_err() {
                        // The reader stopped (a store error): the import reports it.
                        return Ok(());
                    }
                    continue;
                }
            }
            Err(error) => Err(crate::http::body::read_error(error)),
        };
        let _ = tx
            .send(Err(std::io::Error::other("the upload stopped")))
            .await;
        return failed;
    }
    Ok(())
}

fn too_large(limit: u64) -> ApiError {
    ApiError::PayloadTooLarge {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    }
}

fn import_error(error: ImportError) -> ApiError {
    match error {
        ImportError::UnknownSite(site) => ApiError::UnknownSite(site),
        ImportError::Store(e) => ApiError::StoreUnavailable(std::sync::Arc::new(e)),
        ImportError::Input(InputError::Undetected { .. }) => ApiError::invalid_query(
            "format",
            "no known log format reads the first lines: name one with ?format=",
        ),
        other => ApiError::MalformedBody(other.to_string()),
    }
}

/// The body's chunks as a blocking `Read`, for the reading thread.
struct Chunks {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
