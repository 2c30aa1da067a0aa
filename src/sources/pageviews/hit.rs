//! One counted hit, from what the journal keeps to the read model's row. The journal
//! keeps only what counting needs, already made anonymous (a path, a referring host, a
//! salted visitor hash): never an IP address, a User-Agent or a full referrer URL.
//! Rows are derived from the stored hit alone, so `reckon reindex` rebuilds them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::bots::DropReason;
use crate::model::{ContentType, EntityWrite, Envelope, SourceRow};

/// The read model's table of views (SQLite) and journal kind (Elasticsearch).
pub const VIEWS: &str = "pageviews";
/// The table of hits dropped as bots, by reason.
pub const DROPS: &str = "pageview_drops";
/// Longest title, article id or event name kept.
const MAX_TEXT: usize = 512;

/// How a hit came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Beacon,
    Event,
    Live,
    /// An access-log line.
    Log,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Beacon => "beacon",
            Via::Event => "event",
            Via::Live => "live",
            Via::Log => "log",
        }
    }
}

/// What the journal keeps of one accepted hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub site: String,
    pub via: Via,
    /// Unix milliseconds, when Reckon received it.
    pub ts_ms: i64,
    /// `pageview`, or a Plausible custom event's name (not counted as a view).
    pub name: String,
    pub path: String,
    /// The WebSocket's `articleId`, which live counters count by; else the path.
    pub article: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The referring host (another site's: views from the site itself have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// A known search engine or social site, or `utm_source` / `ref` / `source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The first view of a visit: it came from no page of the site itself.
    pub entry: bool,
    /// The client's own flag: `refreshed: false`, or the beacon's `u`.
    pub unique: bool,
    /// `hash(daily salt, site, IP, User-Agent)`, hex.
    pub visitor: String,
    /// A Plausible event's `props`, as sent (bounded by the body limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub props: Option<Value>,
}

/// What the journal keeps of one dropped hit: its site, time and reason, nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drop {
    pub site: String,
    pub via: Via,
    pub ts_ms: i64,
    pub reason: DropReason,
}

/// Cuts `text` to at most `max` bytes at a character boundary.
pub fn clip(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A short optional text: trimmed, empty is none, clipped.
pub fn short(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| clip(t, MAX_TEXT))
}

impl Hit {
    pub fn is_view(&self) -> bool {
        self.name == "pageview"
    }

    pub fn row(&self) -> SourceRow {
        let mut fields = Map::new();
        fields.insert("site".into(), self.site.clone().into());
        fields.insert("ts_ms".into(), self.ts_ms.into());
        fields.insert("name".into(), self.name.clone().into());
        fields.insert("via".into(), self.via.as_str().into());
        fields.insert("path".into(), self.path.clone().into());
        fields.insert("article".into(), self.article.clone().into());
        fields.insert("referrer".into(), self.referrer.clone().into());
        fields.insert("ref_source".into(), self.source.clone().into());
        fields.insert("entry".into(), self.entry.into());
        fields.insert("is_unique".into(), self.unique.into());
        fields.insert("visitor".into(), self.visitor.clone().into());
        SourceRow {
            table: VIEWS.into(),
            fields,
        }
    }

    /// The hit as a journal envelope. Its id is a UUIDv7: time-ordered, so each insert
    /// lands at the end of the journal's dedup index instead of on a random page (a
    /// random id dirtied one more page, and one more WAL frame, per hit).
    pub fn envelope(&self) -> Envelope {
        self.envelope_as(format!("pv_{}", uuid::Uuid::now_v7().simple()), None)
    }

    /// The hit as an envelope with a given id, and the (anonymised) log line it came
    /// from kept beside it in the journal.
    pub fn envelope_as(&self, id: String, line: Option<&str>) -> Envelope {
        envelope(
            self.via,
            if self.is_view() { "pageview" } else { "event" },
            id,
            self.ts_ms,
            payload(self, line),
            EntityWrite::Row(self.row()),
        )
    }
}

impl Drop {
    pub fn row(&self) -> SourceRow {
        let mut fields = Map::new();
        fields.insert("site".into(), self.site.clone().into());
        fields.insert("ts_ms".into(), self.ts_ms.into());
        fields.insert("via".into(), self.via.as_str().into());
        fields.insert("reason".into(), self.reason.as_str().into());
        SourceRow {
            table: DROPS.into(),
            fields,
        }
    }

    pub fn envelope(&self) -> Envelope {
        self.envelope_as(format!("pd_{}", uuid::Uuid::now_v7().simple()), None)
    }

    /// The drop as an envelope with a given id and the log line it came from.
    pub fn envelope_as(&self, id: String, line: Option<&str>) -> Envelope {
        envelope(
            self.via,
            "dropped",
            id,
            self.ts_ms,
            payload(self, line),
            EntityWrite::Row(self.row()),
        )
    }
}

/// The journaled JSON: the hit or drop, with its log line as `line` if it has one.
fn payload<T: Serialize>(value: &T, line: Option<&str>) -> Vec<u8> {
    let Some(line) = line else {
        return serde_json::to_vec(value).unwrap_or_default();
    };
    let mut json = serde_json::to_value(value).unwrap_or_default();
    if let Some(object) = json.as_object_mut() {
        object.insert("line".into(), line.into());
    }
    serde_json::to_vec(&json).unwrap_or_default()
}

fn envelope(
    via: Via,
    kind: &str,
    id: String,
    ts_ms: i64,
    payload: Vec<u8>,
    write: EntityWrite,
) -> Envelope {
    Envelope {
        source: super::SOURCE.to_owned(),
        kind: kind.to_owned(),
        action: Some(via.as_str().to_owned()),
        delivery_id: id.clone(),
        hook_id: None,
        dedup_key: id,
        received_at: ts_ms,
        size: payload.len(),
        payload,
        content_type: ContentType::Json,
        writes: vec![write],
    }
}

/// A stored hit's row again, for `reckon reindex`.
pub fn project_stored(event: &crate::store::RawEvent) -> Vec<EntityWrite> {
    if event.kind == "dropped" {
        return serde_json::from_slice::<Drop>(&event.payload)
            .map(|d| vec![EntityWrite::Row(d.row())])
            .unwrap_or_default();
    }
    serde_json::from_slice::<Hit>(&event.payload)
        .map(|h| vec![EntityWrite::Row(h.row())])
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_characters_whole() {
        assert_eq!(clip("héllo", 2), "h");
        assert_eq!(clip("abc", 10), "abc");
        assert_eq!(short(Some("  ")), None);
        assert_eq!(short(Some(" t ")).as_deref(), Some("t"));
    }

    #[test]
    fn stored_hits_project_to_the_same_row() {
        let hit = Hit {
            site: "example.com".into(),
            via: Via::Beacon,
            ts_ms: 1_700_000_000_000,
            name: "pageview".into(),
            path: "/a".into(),
            article: "/a".into(),
            title: Some("A".into()),
            referrer: Some("news.ycombinator.com".into()),
            source: Some("Hacker News".into()),
            entry: true,
            unique: false,
            visitor: "00ff".into(),
            props: None,
        };
        let env = hit.envelope();
        let event = crate::store::RawEvent {
            seq: 1,
            source: env.source.clone(),
            kind: env.kind.clone(),
            received_at: env.received_at,
            payload: env.payload.clone(),
            content_type: ContentType::Json,
        };
        assert_eq!(project_stored(&event), env.writes);
        let text = String::from_utf8(env.payload).unwrap();
        assert!(!text.contains("Mozilla"), "{text}");
    }
}
