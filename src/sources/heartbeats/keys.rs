//! Heartbeat keys: WakaTime clients check keys locally and refuse anything that is not
//! a UUIDv4 (optionally `waka_`-prefixed), so these keys are bare UUIDs. The first
//! group is the key's id in the key store; the whole key is hashed like any other.

use axum::http::HeaderMap;
use base64::Engine;

use crate::http::error::ApiError;
use crate::store::{ApiKeyRecord, Store, StoreError};
use crate::verify::{api_key, AuthError};

/// The state document that binds a key to the user whose heartbeats it sends.
pub fn binding_key(key_id: &str) -> String {
    format!("heartbeats/key/{key_id}")
}

/// A user name as paths and scopes carry it: short, plain, and safe in a URL.
pub fn is_valid_user(user: &str) -> bool {
    !user.is_empty()
        && user.len() <= 64
        && user != "current"
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("heartbeats keys belong to a user: add `--user NAME`")]
    UserRequired,
    #[error("`{0}` is not a user name: use a-z, A-Z, 0-9, '-', '_' and '.', at most 64 characters (`current` is reserved)")]
    InvalidUser(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new random UUIDv4 key, lowercase and hyphenated.
fn generate() -> String {
    let bytes: [u8; 16] = rand::random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// The key's canonical form and its id, if it has a key's shape (a UUID, perhaps
/// prefixed `waka_`).
pub fn parse(presented: &str) -> Option<(String, String)> {
    let bare = presented.trim();
    let bare = bare.strip_prefix("waka_").unwrap_or(bare);
    let uuid = uuid::Uuid::try_parse(bare).ok()?;
    let key = uuid.hyphenated().to_string();
    let id = key[..8].to_owned();
    Some((key, id))
}

/// Creates a heartbeat key for `user` and returns it (shown once; only its hash stays).
pub async fn add(store: &dyn Store, user: &str) -> Result<String, KeyError> {
    if !is_valid_user(user) {
        return Err(KeyError::InvalidUser(user.to_owned()));
    }
    // Ids are the key's first eight hex digits: draw again on the rare clash.
    let (key, id) = loop {
        let (key, id) = parse(&generate()).expect("a generated key parses");
        if store.api_key(&id).await?.is_none() {
            break (key, id);
        }
    };
    // The binding first: a key never exists, even for a moment, without its user.
    store
        .put_state(&binding_key(&id), serde_json::json!({ "user": user }))
        .await?;
    store
        .create_api_key(ApiKeyRecord {
            id: id.clone(),
            source: super::SOURCE.to_owned(),
            name: Some(user.to_owned()),
            hash: api_key::hash(&key),
            created_at: String::new(),
            revoked_at: None,
        })
        .await?;
    Ok(key)
}

/// The key a request carries: `Authorization: Basic base64(key)` (WakaTime clients),
/// `Bearer <key>`, the bare key, or the `api_key` query parameter.
pub fn presented(headers: &HeaderMap, query_key: Option<&str>) -> Result<String, ApiError> {
    let Some(value) = crate::http::body::header(headers, "authorization")? else {
        return query_key
            .map(str::to_owned)
            .ok_or(ApiError::Auth(AuthError::KeyMissing));
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or(("", value));
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(ApiError::Auth(AuthError::KeyInvalid))?;
        // Some clients send `key:` or `:key`, as user and password.
        let key = decoded
            .split(':')
            .find(|part| !part.is_empty())
            .unwrap_or("");
        return Ok(key.to_owned());
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(rest.trim().to_owned());
    }
    Ok(value.to_owned())
}

/// Checks a presented key: a live heartbeats key whose hash matches. Answers its id.
pub async fn check(store: &dyn Store, presented: &str) -> Result<String, ApiError> {
    let (key, id) = parse(presented).ok_or(ApiError::Auth(AuthError::KeyInvalid))?;
    let record = store
        .api_key(&id)
        .await
        .map_err(|e| ApiError::StoreUnavailable(std::sync::Arc::new(e)))?
        .filter(|k| k.revoked_at.is_none() && api_key::matches(&key, &k.hash))
        .ok_or(ApiError::Auth(AuthError::KeyInvalid))?;
    if record.source != super::SOURCE {
        return Err(ApiError::Auth(AuthError::KeyWrongSource));
    }
    Ok(id)
}

/// The user a key is bound to.
pub async fn user_of(store: &dyn Store, key_id: &str) -> Result<String, ApiError> {
    let doc = store
        .state(&binding_key(key_id))
        .await
        .map_err(|e| ApiError::StoreUnavailable(std::sync::Arc::new(e)))?;
    doc.and_then(|d| d["user"].as_str().map(str::to_owned))
        .ok_or(ApiError::Auth(AuthError::KeyInvalid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_uuid_v4_and_parse_with_or_without_prefix() {
        let key = generate();
        let uuid = uuid::Uuid::try_parse(&key).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
        let (canonical, id) = parse(&format!("waka_{}", key.to_uppercase())).unwrap();
        assert_eq!(canonical, key);
        assert_eq!(id, &key[..8]);
        assert!(parse("rk_abc_def").is_none());
        assert!(parse("").is_none());
    }

    #[test]
    fn keys_are_read_from_basic_bearer_bare_and_query() {
        let key = "6f1c9a6e-2a4b-4c1d-9e8f-0123456789ab";
        let mut headers = HeaderMap::new();
        let basic = base64::engine::general_purpose::STANDARD.encode(key);
        headers.insert("authorization", format!("Basic {basic}").parse().unwrap());
        assert_eq!(presented(&headers, None).unwrap(), key);
        let with_colon = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
        headers.insert(
            "authorization",
            format!("Basic {with_colon}").parse().unwrap(),
        );
        assert_eq!(presented(&headers, None).unwrap(), key);
        headers.insert("authorization", format!("Bearer {key}").parse().unwrap());
        assert_eq!(presented(&headers, None).unwrap(), key);
        assert_eq!(presented(&HeaderMap::new(), Some(key)).unwrap(), key);
        assert!(presented(&HeaderMap::new(), None).is_err());
    }

    #[test]
    fn user_names_are_plain() {
        assert!(is_valid_user("ada.lovelace"));
        assert!(!is_valid_user("current"));
        assert!(!is_valid_user("a/b"));
        assert!(!is_valid_user(""));
    }
}
