//! Visitor hashes without tracking: `hash(daily salt, site, IP, User-Agent)`. Each UTC
//! day gets a random salt, shared by every replica through the store; yesterday's is
//! kept only while a visit can still continue it, then deleted, so no hash can ever be
//! recomputed or linked across days. The IP and User-Agent are never stored.

use std::sync::Mutex;

use chrono::{DateTime, NaiveDate};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::store::{Store, StoreError};

const DAY_MS: i64 = 86_400_000;
/// Where salts are kept: one state document per UTC day.
const PREFIX: &str = "pageviews/salt/";
/// The lock that makes exactly one replica draw a day's salt (one per day, so that
/// drawing one day's never waits on another's).
const LOCK: &str = "pageviews-salt-";
/// How long the replica drawing a salt holds its lock, at most.
const LOCK_MS: i64 = 2000;
/// How long a process keeps the salts it read before looking again (and pruning).
const REFRESH_MS: i64 = 60_000;

/// A day's salt.
#[derive(Clone, PartialEq, Eq)]
pub struct Salt {
    pub day: NaiveDate,
    bytes: [u8; 32],
}

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Salt({}, [redacted])", self.day)
    }
}

impl Salt {
    /// A salt no store holds: for log lines of a day whose salt is already destroyed.
    /// Dropped with its import, so its hashes link nothing beyond that import's day.
    pub fn ephemeral(day: NaiveDate) -> Salt {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Salt { day, bytes }
    }

    /// The visitor hash of (site, ip, user agent) under this salt: 16 bytes of hex.
    pub fn visitor(&self, site: &str, ip: &str, user_agent: &str) -> String {
        let mut hash = Sha256::new();
        hash.update(self.bytes);
        for part in [site, ip, user_agent] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hex::encode(&hash.finalize()[..16])
    }
}

/// The salts in force at one instant: today's, and yesterday's while a visit begun
/// before midnight may still be going on.
#[derive(Debug, Clone)]
pub struct DaySalts {
    pub today: Salt,
    pub previous: Option<Salt>,
}

/// The UTC day of a Unix-millisecond time.
pub fn utc_day(ms: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .date_naive()
}

fn key(day: NaiveDate) -> String {
    format!("{PREFIX}{day}")
}

/// One process's view of the salts, re-read every minute and at each UTC midnight.
pub struct Salts {
    holder: String,
    session_ms: i64,
    cached: Mutex<Option<(i64, DaySalts)>>,
}

impl Salts {
    pub fn new(session_minutes: u32) -> Salts {
        Salts {
            holder: format!("salts-{}", uuid::Uuid::new_v4()),
            session_ms: i64::from(session_minutes) * 60_000,
            cached: Mutex::new(None),
        }
    }

    /// How long a visit lasts without a view.
    pub fn session_ms(&self) -> i64 {
        self.session_ms
    }

    /// The salts in force at `now_ms`, drawing today's if no replica has yet and
    /// destroying every salt that is no longer needed.
    pub async fn at(&self, store: &dyn Store, now_ms: i64) -> Result<DaySalts, StoreError> {
        let day = utc_day(now_ms);
        let in_grace = now_ms - day_start(day) < self.session_ms;
        if let Some((read_at, salts)) = self.lock().as_ref() {
            let fresh = now_ms >= *read_at && now_ms - read_at < REFRESH_MS;
            if fresh && salts.today.day == day && (in_grace || salts.previous.is_none()) {
                return Ok(salts.clone());
            }
        }
        let today = self.ensure(store, day).await?;
        let previous = match day.pred_opt() {
            Some(yesterday) if in_grace => read(store, yesterday).await?,
            _ => None,
        };
        prune(store, day, in_grace).await?;
        let salts = DaySalts { today, previous };
        *self.lock() = Some((now_ms, salts.clone()));
        Ok(salts)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(i64, DaySalts)>> {
        self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The salt of `day`, drawn under the store's lock if it has none yet.
    async fn ensure(&self, store: &dyn Store, day: NaiveDate) -> Result<Salt, StoreError> {
        let lock = format!("{LOCK}{day}");
        for _ in 0..(LOCK_MS / 10) {
            if let Some(salt) = read(store, day).await? {
                return Ok(salt);
            }
            if store.try_lock(&lock, &self.holder, LOCK_MS).await? {
                if let Some(salt) = read(store, day).await? {
                    return Ok(salt);
                }
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                store
                    .put_state(&key(day), json!({ "salt": hex::encode(bytes) }))
                    .await?;
                return Ok(Salt { day, bytes });
            }
            // Another replica is drawing it: read it once it has.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        Err(StoreError::Corrupt(format!(
            "no salt for {day}: another process holds the salt lock"
        )))
    }
}

fn day_start(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_default()
}

async fn read(store: &dyn Store, day: NaiveDate) -> Result<Option<Salt>, StoreError> {
    let Some(doc) = store.state(&key(day)).await? else {
        return Ok(None);
    };
    let bytes = doc["salt"]
        .as_str()
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("salt of {day} is not 32 bytes of hex")))?;
    Ok(Some(Salt { day, bytes }))
}

/// Deletes every salt before `today`, keeping yesterday's while `in_grace`.
async fn prune(store: &dyn Store, today: NaiveDate, in_grace: bool) -> Result<(), StoreError> {
    let keep_from = if in_grace {
        today.pred_opt().unwrap_or(today)
    } else {
        today
    };
    for (key, _) in store.states(PREFIX, 1000).await? {
        let day = key
            .strip_prefix(PREFIX)
            .and_then(|d| d.parse::<NaiveDate>().ok());
        if day.is_none_or(|d| d < keep_from) {
            store.delete_state(&key).await?;
            tracing::info!(salt = %key, "salt destroyed");
        }
    }
    Ok(())
}

/// Milliseconds since the Unix epoch at the start of `ms`'s UTC day.
pub fn start_of_day(ms: i64) -> i64 {
    ms - ms.rem_euclid(DAY_MS)
}
