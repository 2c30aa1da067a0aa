//! `GET /api/v1/token`: which token the caller holds and what it may read, so the
//! dashboard can check a token at sign-in and show who is signed in.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Grant, Reader};
use crate::http::error::{ApiError, ErrorBody};
use crate::verify::AuthError;

#[derive(Serialize, ToSchema)]
pub struct TokenInfo {
    /// The token's id (the part after `rkt_`), never the token.
    pub id: String,
    pub name: String,
    /// `admin`, `github:ORG`, `source:NAME`, `site:DOMAIN`, `heartbeats:USER`; `*` for
    /// every name.
    pub scopes: Vec<String>,
    /// RFC 3339; null when it never expires.
    pub expires_at: Option<String>,
}

/// The token this request carries.
#[utoipa::path(get, path = "/api/v1/token", tag = "access",
    security(("bearer" = [])),
    responses((status = 200, body = TokenInfo), (status = 401, body = ErrorBody)))]
pub async fn token(reader: Reader) -> Result<Json<TokenInfo>, ApiError> {
    match reader.grant {
        Grant::Token(t) => Ok(Json(TokenInfo {
            id: t.id,
            name: t.name,
            scopes: t.scopes.iter().map(ToString::to_string).collect(),
            expires_at: t
                .expires_at
                .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        })),
        Grant::Anonymous | Grant::PublicListener => Err(AuthError::ReadTokenMissing.into()),
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(token),
    components(schemas(TokenInfo)),
    tags((name = "access", description = "Read tokens")),
)]
pub struct ApiDoc;
