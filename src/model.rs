//! The shapes that cross the store boundary: the envelope every delivery is stored in,
//! and the versioned entity writes projections produce. Backends see nothing else.

use serde::{Deserialize, Serialize};

/// What a journaled payload is. JSON is what webhooks and events send; text is for
/// bodies kept exactly as sent, such as log lines. Rows written before content types
/// existed are JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentType {
    #[default]
    Json,
    /// UTF-8 text, served back as a JSON string.
    Text,
}

impl ContentType {
    /// The media type, as stored and as the events API reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Json => "application/json",
            ContentType::Text => "text/plain",
        }
    }

    /// A journal row's content type, where absent means JSON (every row written before
    /// content types were stored); `Err` names a type this Reckon does not know.
    pub fn from_stored(stored: Option<&str>) -> Result<ContentType, String> {
        match stored {
            None | Some("application/json") => Ok(ContentType::Json),
            Some("text/plain") => Ok(ContentType::Text),
            Some(other) => Err(format!("unknown content type `{other}`")),
        }
    }
}

/// One delivery as received: who sent it, what it is, and the raw body.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `github` or a configured source name.
    pub source: String,
    /// The event type: `X-GitHub-Event`, or a source event's `type`.
    pub kind: String,
    pub action: Option<String>,
    /// The sender's delivery id (`X-GitHub-Delivery`, `webhook-id`, `Idempotency-Key`).
    pub delivery_id: String,
    pub hook_id: Option<String>,
    /// Deduplication key, unique per source.
    pub dedup_key: String,
    /// Unix milliseconds.
    pub received_at: i64,
    /// Size of the request body as received, in bytes.
    pub size: usize,
    /// The payload as received (for form bodies, the decoded `payload` field).
    pub payload: Vec<u8>,
    /// What `payload` is: JSON, or UTF-8 text kept byte for byte.
    pub content_type: ContentType,
    /// Entity writes derived from the payload; applied only if the delivery is new.
    pub writes: Vec<EntityWrite>,
}

/// What storing one envelope did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteOutcome {
    Accepted,
    Duplicate,
    /// The store refused this delivery as too large for one request (an Elasticsearch
    /// cluster's `http.max_content_length`); nothing of it was stored, and the sender
    /// gets 413.
    TooLarge {
        bytes: usize,
    },
}

/// What storing one envelope did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = WriteOutcome)]
pub enum Stored {
    Accepted,
    Duplicate,
}

impl Stored {
    pub fn as_str(self) -> &'static str {
        match self {
            Stored::Accepted => "accepted",
            Stored::Duplicate => "duplicate",
        }
    }
}

impl WriteOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteOutcome::Accepted => "accepted",
            WriteOutcome::Duplicate => "duplicate",
            WriteOutcome::TooLarge { .. } => "too_large",
        }
    }
}

/// Versions order writes to one entity: a write applies only if its version is at
/// least the stored one, so replays and late deliveries never roll state back.
pub type Version = i64;

/// Builds a version from a timestamp in milliseconds and a tie-break rank, so that at
/// equal timestamps the later life-cycle stage (closed, merged, deleted) wins.
pub fn version(timestamp_ms: i64, rank: u8) -> Version {
    timestamp_ms
        .saturating_mul(4)
        .saturating_add(i64::from(rank & 3))
}

/// Serializable so sync jobs can journal the writes they derive from GitHub's API,
/// which lets a rebuild replay them like webhook deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entity", rename_all = "snake_case")]
pub enum EntityWrite {
    Org(Org),
    /// The org's login changed: everything under the old key moves to the new one.
    OrgRenamed {
        from: String,
        to: String,
    },
    Repo(Repo),
    Team(Team),
    OrgMember(Membership),
    /// A user seen in a team of the org: an org member unless the org says otherwise.
    OrgMemberSeen(Membership),
    TeamMember {
        team_id: i64,
        member: Membership,
    },
    PullRequest(PullRequest),
    /// A row of a source's own read model, stored beside its event in the same commit.
    Row(SourceRow),
}

/// One row of a source's read model (e.g. `server_events`), keyed by its event: the
/// backends add the event's `seq`, `source`, `received_at` and `day` to `fields`. It is
/// written once, when its event is first stored, and never merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRow {
    /// The read model's table on SQLite, its journal index kind on Elasticsearch.
    pub table: String,
    /// Column name → value: strings, integers, booleans, or JSON kept whole.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Org {
    /// Lower-case login: the key every per-org entity refers to.
    pub key: String,
    pub login: String,
    pub id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repo {
    pub id: i64,
    pub org: String,
    pub name: String,
    pub full_name: String,
    pub private: bool,
    pub archived: bool,
    /// Deletion is final: ids are never reused.
    pub deleted: bool,
    pub version: Version,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub id: i64,
    pub org: String,
    pub slug: Option<String>,
    pub name: Option<String>,
    pub deleted: bool,
    pub version: Version,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub org: String,
    pub user_id: i64,
    pub login: String,
    pub present: bool,
    pub version: Version,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrState {
    Open,
    Closed,
    Merged,
}

impl PrState {
    pub fn as_str(self) -> &'static str {
        match self {
            PrState::Open => "open",
            PrState::Closed => "closed",
            PrState::Merged => "merged",
        }
    }

    /// The state `as_str` wrote, or `None` for anything else.
    pub fn from_stored(stored: &str) -> Option<PrState> {
        [PrState::Open, PrState::Closed, PrState::Merged]
            .into_iter()
            .find(|s| s.as_str() == stored)
    }

    /// Tie-break rank: at equal `updated_at`, merged beats closed beats open.
    pub fn rank(self) -> u8 {
        match self {
            PrState::Open => 0,
            PrState::Closed => 1,
            PrState::Merged => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    pub id: i64,
    pub org: String,
    pub repo_id: i64,
    pub repo: String,
    pub number: i64,
    pub title: String,
    pub state: PrState,
    pub draft: bool,
    pub author: String,
    pub author_id: i64,
    pub base_ref: String,
    pub labels: Vec<String>,
    pub requested_reviewers: Vec<String>,
    pub additions: Option<i64>,
    pub deletions: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub merged_at: Option<i64>,
    pub version: Version,
}
