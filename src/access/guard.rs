//! The edge of every read: `authenticate` turns the request's bearer token into a
//! `Reader` once, and `guard` wraps a slice's read routes with the resource they read.
//! Every refusal is logged with the token's id (never the token) and counted.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, RawPathParams, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::token::{AuthOutcome, Refusal, Tokens};
use super::{Grant, Reader, Resource, TokenGrant};
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::verify::AuthError;

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// `listen`: everything, reads by token.
    Private,
    /// `public_listen`: what must face the internet, and reads of public resources.
    Public,
}

/// What a group of read routes reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Anyone: the API reference.
    Open,
    /// Any live token (`GET /api/v1/token`).
    Token,
    /// The operational views: an `admin` token.
    Admin,
    /// `/metrics`: open on the private listener when a public one faces the internet,
    /// otherwise an `admin` token.
    Metrics,
    /// The org in the `{org}` path parameter.
    GithubOrg,
    /// The drift report of the `{org}` path parameter: its org scope or `admin`.
    GithubDrift,
    /// The source in the `{source}` path parameter.
    SourcePath,
    /// The source in the `source` query parameter (raw events: `github` needs `github:*`).
    SourceQuery,
    /// A list, or a resource only the handler can name: the handler takes the `Reader`
    /// and filters or checks itself.
    Listed,
}

/// Wraps `routes` so each is read under `policy`.
pub fn guard<S: Clone + Send + Sync + 'static>(policy: Policy, routes: Router<S>) -> Router<S> {
    routes.route_layer(axum::middleware::from_fn(
        move |params: RawPathParams, request: Request, next: Next| {
            check(policy, params, request, next)
        },
    ))
}

fn param(params: &RawPathParams, name: &str) -> Option<String> {
    params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn query_param(request: &Request, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    serde_urlencoded::from_str::<HashMap<String, String>>(query)
        .ok()?
        .remove(name)
}

/// The resource a request under `policy` reads; `None` when there is nothing to check
/// here.
fn resource(policy: Policy, params: &RawPathParams, request: &Request) -> Option<Resource> {
    match policy {
        Policy::Open | Policy::Token | Policy::Listed | Policy::Metrics => None,
        Policy::Admin => Some(Resource::Admin),
        Policy::GithubOrg => param(params, "org").map(Resource::GithubOrg),
        Policy::GithubDrift => param(params, "org").map(Resource::GithubDrift),
        Policy::SourcePath => param(params, "source").map(Resource::Source),
        Policy::SourceQuery => query_param(request, "source").map(|s| source_resource(&s)),
    }
}

/// The resource of reading the raw events of `source`.
pub fn source_resource(source: &str) -> Resource {
    if crate::sources::github::owns(source) {
        Resource::GithubEvents
    } else {
        Resource::Source(source.to_owned())
    }
}

async fn check(policy: Policy, params: RawPathParams, request: Request, next: Next) -> Response {
    let Some(reader) = request.extensions().get::<Reader>().cloned() else {
        return ApiError::NotFound(crate::http::ops::NO_SUCH_ENDPOINT.into()).into_response();
    };
    let listener = request.extensions().get::<Listener>().copied();
    let decided = match policy {
        Policy::Token => match reader.grant {
            Grant::Token(_) => Ok(()),
            Grant::Anonymous => Err(AuthError::ReadTokenMissing.into()),
            Grant::PublicListener => Err(ApiError::NotFound(
                crate::http::ops::NO_SUCH_ENDPOINT.into(),
            )),
        },
        Policy::Metrics
            if listener == Some(Listener::Private) && reader.access.open_metrics_on_private =>
        {
            Ok(())
        }
        Policy::Metrics => reader.check(&Resource::Admin),
        Policy::Listed
            if matches!(reader.grant, Grant::Anonymous) && !reader.access.anything_public() =>
        {
            Err(AuthError::ReadTokenMissing.into())
        }
        _ => match resource(policy, &params, &request) {
            Some(resource) => reader.check(&resource),
            None => Ok(()),
        },
    };
    match decided {
        Ok(()) => next.run(request).await,
        Err(error) => {
            let client = client_ip(&request);
            refused(&reader, client, error, "out_of_scope")
        }
    }
}

/// Logs, counts and answers a refused read; past the throttle the answer is 429.
fn refused(
    reader: &Reader,
    client: Option<IpAddr>,
    error: ApiError,
    reason: &'static str,
) -> Response {
    let reason = match &error {
        ApiError::Auth(AuthError::ReadTokenMissing) => "token_missing",
        _ => reason,
    };
    tracing::info!(
        token_id = reader.grant.token_id(),
        reason,
        client = client.map(|ip| ip.to_string()).as_deref().unwrap_or("-"),
        code = error.code(),
        "read refused"
    );
    reader.access.metrics.read_refused(reason);
    // A missing token is no guess: only failed tokens and scope probes are throttled.
    if reason != "token_missing" {
        if let Err(retry_after) = reader.access.failed(client) {
            return ApiError::RateLimited { retry_after }.into_response();
        }
    }
    error.into_response()
}

fn client_ip(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The bearer token of `Authorization`, if the request carries one.
fn bearer(request: &Request) -> Result<Option<&str>, ApiError> {
    let Some(value) = request.headers().get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidHeader {
        name: "authorization",
        reason: "not visible ASCII".into(),
    })?;
    Ok(value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim))
}

/// Resolves the request's grant and leaves it, with the rules, for the routes inside.
/// A token that is sent but reads nothing is refused here, whatever the route.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let listener = request
        .extensions()
        .get::<Listener>()
        .copied()
        .unwrap_or(Listener::Private);
    let token = match bearer(&request) {
        Err(error) => return error.into_response(),
        Ok(token) => token.map(str::to_owned),
    };
    // Editors read their status bar with their heartbeats key, however they send it. A
    // configured token is never one, even when it is a UUID too.
    let key = token
        .clone()
        .or_else(|| heartbeats_key(&request))
        .filter(|k| crate::sources::heartbeats::keys::parse(k).is_some())
        .filter(|k| state.access.configured(k).is_none());
    let grant = match (listener, key, token) {
        (_, Some(key), _) => resolve_key(&state, &key).await.map(Grant::Token),
        (Listener::Public, None, _) => Ok(Grant::PublicListener),
        (Listener::Private, None, None) => Ok(Grant::Anonymous),
        (Listener::Private, None, Some(token)) => resolve(&state, &token).await.map(Grant::Token),
    };
    let reader = Reader {
        grant: grant.as_ref().cloned().unwrap_or(Grant::Anonymous),
        access: state.access.clone(),
    };
    match grant {
        Ok(_) => {
            request.extensions_mut().insert(reader);
            next.run(request).await
        }
        Err(Failure::Refused(refusal, token_id)) => {
            let error = ApiError::Auth(match refusal {
                Refusal::Invalid => AuthError::ReadTokenInvalid,
                Refusal::Expired => AuthError::ReadTokenExpired,
            });
            let reader = Reader {
                grant: Grant::Token(TokenGrant {
                    id: token_id,
                    name: String::new(),
                    scopes: Vec::new(),
                    expires_at: None,
                }),
                ..reader
            };
            let reason = match refusal {
                Refusal::Invalid => "token_invalid",
                Refusal::Expired => "token_expired",
            };
            refused(&reader, client_ip(&request), error, reason)
        }
        Err(Failure::Store(error)) => error.into_response(),
    }
}

enum Failure {
    /// Refused, with the presented token's id when it has the shape of one.
    Refused(Refusal, String),
    Store(ApiError),
}

/// A heartbeats key sent the way WakaTime clients send it: `Basic base64(key)`, or the
/// `api_key` query parameter.
fn heartbeats_key(request: &Request) -> Option<String> {
    let value = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match value {
        Some(v) if v.len() > 6 && v[..6].eq_ignore_ascii_case("basic ") => {
            crate::sources::heartbeats::keys::presented(request.headers(), None).ok()
        }
        Some(_) => None,
        None => query_param(request, "api_key"),
    }
}

/// The grant of a heartbeats key: its user's coding time.
async fn resolve_key(state: &AppState, key: &str) -> Result<TokenGrant, Failure> {
    use crate::sources::heartbeats::keys;
    let store = state.store.as_ref();
    let id = keys::parse(key).map(|(_, id)| id).unwrap_or_default();
    let checked = match keys::check(store, key).await {
        Ok(id) => state.heartbeats.user_of(store, &id).await,
        Err(error) => Err(error),
    };
    match checked {
        Ok(user) => Ok(TokenGrant {
            id,
            name: format!("heartbeats key of {user}"),
            scopes: vec![super::Scope::Heartbeats(user)],
            expires_at: None,
        }),
        Err(ApiError::Auth(_)) => Err(Failure::Refused(Refusal::Invalid, id)),
        Err(error) => Err(Failure::Store(error)),
    }
}

async fn resolve(state: &AppState, token: &str) -> Result<TokenGrant, Failure> {
    if let Some(grant) = state.access.configured(token) {
        return Ok(grant);
    }
    let id = super::token::id_of(token).unwrap_or("-").to_owned();
    match Tokens::new(state.store.as_ref()).authenticate(token).await {
        Ok(record) => Ok(TokenGrant {
            id: record.id,
            name: record.name,
            scopes: record.scopes,
            expires_at: record.expires_at,
        }),
        Err(AuthOutcome::Refused(refusal)) => Err(Failure::Refused(refusal, id)),
        Err(AuthOutcome::Store(error)) => Err(Failure::Store(ApiError::StoreUnavailable(
            std::sync::Arc::new(error),
        ))),
    }
}
