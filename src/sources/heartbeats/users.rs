//! Each user's basis for turning heartbeats into time: their time zone (fixed in
//! config, else the `Timezone` header their editors last sent, else the default) and
//! keystroke timeout. The bindings of keys to users are remembered here too.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono_tz::Tz;

use super::config::HeartbeatsConfig;
use super::store::Basis;
use crate::http::error::ApiError;
use crate::store::Store;

/// Entries each map keeps at most; a full map is emptied and refilled from the store.
const CAPACITY: usize = 16_384;

/// The state document holding what a user's editors said of them.
pub fn user_key(user: &str) -> String {
    format!("heartbeats/user/{user}")
}

/// What one process remembers: key → user (bindings never change) and the time zone
/// last stored per user (so a header repeated on every request costs no write).
#[derive(Default)]
pub struct Runtime {
    key_users: Mutex<HashMap<String, String>>,
    zones: Mutex<HashMap<String, String>>,
}

fn remember(map: &Mutex<HashMap<String, String>>, key: &str, value: &str) {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= CAPACITY {
        map.clear();
    }
    map.insert(key.to_owned(), value.to_owned());
}

fn recall(map: &Mutex<HashMap<String, String>>, key: &str) -> Option<String> {
    map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(key)
        .cloned()
}

impl Runtime {
    /// The user `key_id` sends for.
    pub async fn user_of(&self, store: &dyn Store, key_id: &str) -> Result<String, ApiError> {
        if let Some(user) = recall(&self.key_users, key_id) {
            return Ok(user);
        }
        let user = super::keys::user_of(store, key_id).await?;
        remember(&self.key_users, key_id, &user);
        Ok(user)
    }

    /// Records the time zone a user's editor sent, unless config fixes it or it is
    /// already the stored one. An unknown zone name is ignored.
    pub async fn observe_zone(
        &self,
        store: &dyn Store,
        config: &HeartbeatsConfig,
        user: &str,
        zone: &str,
    ) -> Result<(), ApiError> {
        let fixed = config.users.get(user).and_then(|u| u.timezone.as_ref());
        if fixed.is_some() || zone.parse::<Tz>().is_err() {
            return Ok(());
        }
        if recall(&self.zones, user).as_deref() == Some(zone) {
            return Ok(());
        }
        let stored = store.state(&user_key(user)).await.map_err(store_error)?;
        if stored.as_ref().and_then(|d| d["timezone"].as_str()) != Some(zone) {
            store
                .put_state(&user_key(user), serde_json::json!({ "timezone": zone }))
                .await
                .map_err(store_error)?;
        }
        remember(&self.zones, user, zone);
        Ok(())
    }
}

fn store_error(e: crate::store::StoreError) -> ApiError {
    ApiError::StoreUnavailable(std::sync::Arc::new(e))
}

/// The basis of `user`'s time now.
pub async fn basis(
    store: &dyn Store,
    config: &HeartbeatsConfig,
    user: &str,
) -> Result<Basis, ApiError> {
    let own = config.users.get(user);
    let zone = match own.and_then(|u| u.timezone.clone()) {
        Some(zone) => zone,
        None => store
            .state(&user_key(user))
            .await
            .map_err(store_error)?
            .and_then(|d| d["timezone"].as_str().map(str::to_owned))
            .unwrap_or_else(|| config.default_timezone.clone()),
    };
    let minutes = own
        .and_then(|u| u.keystroke_timeout_minutes)
        .unwrap_or(config.keystroke_timeout_minutes);
    Ok(Basis {
        tz: zone.parse().unwrap_or(Tz::UTC),
        timeout_ms: i64::from(minutes) * 60_000,
    })
}
