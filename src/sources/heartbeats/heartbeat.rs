//! One heartbeat, from what an editor sent to what the read model keeps. The journal
//! stores the item verbatim with the request's context (user, machine, user agent, time
//! zone), and `decode` derives the row from that alone, so a reindex rebuilds it exactly.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{ContentType, EntityWrite, Envelope, SourceRow};

/// The read model's table (SQLite) and journal kind (Elasticsearch).
pub const TABLE: &str = "heartbeats";
/// Longest entity (a file path or URL) kept.
const MAX_ENTITY: usize = 4096;
/// Longest project, branch, language or other name kept.
const MAX_NAME: usize = 512;
/// The most a Kodo-style heartbeat may say it worked: an hour.
pub const MAX_ELAPSED_MS: i64 = 60 * 60 * 1000;

/// What the journal keeps of one heartbeat: the item as sent and the request's context.
#[derive(Debug, Serialize, Deserialize)]
pub struct Stored {
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// A WakaTime heartbeat object, every field kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<Box<RawValue>>,
    /// A Kodo-style event (`GET /api/v1/heartbeats?event=`), every field kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kodo: Option<Box<RawValue>>,
}

/// A heartbeat as durations and stats see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Heartbeat {
    pub user: String,
    /// Unix milliseconds.
    pub time_ms: i64,
    /// Kodo-style heartbeats: the time worked, ending at `time_ms`.
    pub elapsed_ms: Option<i64>,
    pub entity: String,
    pub kind: String,
    pub category: String,
    pub project: String,
    pub branch: String,
    pub language: String,
    pub editor: String,
    pub os: String,
    pub machine: String,
    pub is_write: bool,
    pub lines: Option<i64>,
}

/// What a dimension is called when the heartbeat does not say.
pub const UNKNOWN: &str = "unknown";

fn text(item: &Map<String, Value>, field: &str, max: usize) -> Result<Option<String>, String> {
    match item.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.len() > max => {
            Err(format!("`{field}` is longer than {max} bytes"))
        }
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(other) => Err(format!("`{field}` must be a string, not {other}")),
    }
}

fn seconds_to_ms(value: Option<&Value>, field: &str) -> Result<i64, String> {
    let seconds = match value {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|s| s.is_finite() && s.abs() < 1e12)
    .ok_or_else(|| format!("`{field}` must be a Unix time in seconds (a number)"))?;
    Ok((seconds * 1000.0).round() as i64)
}

fn flag(item: &Map<String, Value>, field: &str) -> bool {
    match item.get(field) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0) != 0,
        _ => false,
    }
}

impl Stored {
    /// The heartbeat this stored item describes, or why it is not one.
    pub fn decode(&self) -> Result<Heartbeat, String> {
        let (raw, kodo) = match (&self.heartbeat, &self.kodo) {
            (Some(raw), _) => (raw, false),
            (None, Some(raw)) => (raw, true),
            (None, None) => return Err("empty heartbeat".into()),
        };
        let item: Map<String, Value> = serde_json::from_str(raw.get())
            .map_err(|_| "a heartbeat must be a JSON object".to_owned())?;
        let sent_agent = text(&item, "user_agent", MAX_NAME)?;
        let agent = sent_agent.as_deref().or(self.user_agent.as_deref());
        let (editor, os) = agent.map(parse_user_agent).unwrap_or_default();
        let machine = self.machine.clone();
        if kodo {
            return decode_kodo(&self.user, &item, machine);
        }
        let entity = text(&item, "entity", MAX_ENTITY)?.ok_or("`entity` is required")?;
        let kind = text(&item, "type", 32)?.unwrap_or_else(|| "file".into());
        Ok(Heartbeat {
            user: self.user.clone(),
            time_ms: seconds_to_ms(item.get("time"), "time")?,
            elapsed_ms: None,
            entity,
            kind,
            category: text(&item, "category", 64)?.unwrap_or_else(|| "coding".into()),
            project: named(text(&item, "project", MAX_NAME)?),
            branch: named(text(&item, "branch", MAX_NAME)?),
            language: named(text(&item, "language", MAX_NAME)?),
            editor: named(editor),
            os: named(os),
            machine: named(machine),
            is_write: flag(&item, "is_write"),
            lines: item.get("lines").and_then(Value::as_i64),
        })
    }
}

fn named(value: Option<String>) -> String {
    value.unwrap_or_else(|| UNKNOWN.to_owned())
}

/// `{"application", "elapsed", "epoch", "identifier", "language", "type", "workspace"}`.
fn decode_kodo(
    user: &str,
    item: &Map<String, Value>,
    machine: Option<String>,
) -> Result<Heartbeat, String> {
    let epoch = item
        .get("epoch")
        .and_then(Value::as_i64)
        .ok_or("`epoch` must be Unix milliseconds (a whole number)")?;
    let elapsed = item
        .get("elapsed")
        .and_then(Value::as_i64)
        .filter(|e| (0..=MAX_ELAPSED_MS).contains(e))
        .ok_or("`elapsed` must be milliseconds worked, 0 to 3600000")?;
    let entity = text(item, "identifier", MAX_ENTITY)?.ok_or("`identifier` is required")?;
    Ok(Heartbeat {
        user: user.to_owned(),
        time_ms: epoch,
        elapsed_ms: Some(elapsed),
        entity,
        kind: text(item, "type", 32)?.unwrap_or_else(|| "ide".into()),
        category: "coding".into(),
        project: named(text(item, "workspace", MAX_NAME)?),
        branch: UNKNOWN.into(),
        language: named(text(item, "language", MAX_NAME)?),
        editor: named(text(item, "application", MAX_NAME)?),
        os: UNKNOWN.into(),
        machine: named(machine),
        is_write: false,
        lines: None,
    })
}

/// The editor and operating system a WakaTime user agent names, e.g.
/// `wakatime/13.1.0 (Linux-6.1.0-x86_64-with-glibc2.36) Python3.11.2 vim/9.0 vim-wakatime/9.0.0`
/// or `wakatime/v1.73.0 (darwin-22.1.0-arm64) go1.19 vscode/1.70.0 vscode-wakatime/4.0.0`.
pub fn parse_user_agent(agent: &str) -> (Option<String>, Option<String>) {
    let os = agent
        .split_once('(')
        .and_then(|(_, rest)| rest.split(')').next())
        .and_then(|inside| inside.split(['-', ';', ' ']).next())
        .map(|name| match name.to_ascii_lowercase().as_str() {
            "darwin" | "macos" | "mac" => "Mac".to_owned(),
            "windows" | "win32" => "Windows".to_owned(),
            "linux" => "Linux".to_owned(),
            _ => name.to_owned(),
        })
        .filter(|name| !name.is_empty());
    let tail = agent.rsplit(')').next().unwrap_or(agent);
    let tokens: Vec<&str> = tail.split_whitespace().collect();
    let plugin = tokens.iter().find_map(|t| {
        let name = t.split('/').next()?;
        name.strip_suffix("-wakatime")
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
    });
    let editor = plugin.or_else(|| {
        tokens.iter().rev().find_map(|t| {
            let (name, _) = t.split_once('/')?;
            let lower = name.to_ascii_lowercase();
            (!lower.starts_with("wakatime") && !lower.starts_with("python") && lower != "unknown")
                .then(|| name.to_owned())
        })
    });
    (editor, os)
}

impl Heartbeat {
    /// The dedup key: a hash of (user, entity, type, category, project, branch,
    /// language, is_write, time to the millisecond), so a client's resend is stored once.
    pub fn dedup_key(&self) -> String {
        let mut hash = Sha256::new();
        let time = self.time_ms.to_string();
        let write = if self.is_write { "1" } else { "0" };
        let elapsed = self.elapsed_ms.map(|e| e.to_string()).unwrap_or_default();
        for part in [
            self.user.as_str(),
            &self.entity,
            &self.kind,
            &self.category,
            &self.project,
            &self.branch,
            &self.language,
            write,
            &time,
            &elapsed,
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        format!("hb_{}", hex::encode(&hash.finalize()[..16]))
    }

    /// The read-model row (the store adds seq, source, received_at and day).
    pub fn row(&self) -> SourceRow {
        let mut fields = Map::new();
        fields.insert("user".into(), self.user.clone().into());
        fields.insert("time_ms".into(), self.time_ms.into());
        fields.insert("elapsed_ms".into(), self.elapsed_ms.into());
        fields.insert("entity".into(), self.entity.clone().into());
        fields.insert("type".into(), self.kind.clone().into());
        fields.insert("category".into(), self.category.clone().into());
        fields.insert("project".into(), self.project.clone().into());
        fields.insert("branch".into(), self.branch.clone().into());
        fields.insert("language".into(), self.language.clone().into());
        fields.insert("editor".into(), self.editor.clone().into());
        fields.insert("os".into(), self.os.clone().into());
        fields.insert("machine".into(), self.machine.clone().into());
        fields.insert("is_write".into(), self.is_write.into());
        fields.insert("lines".into(), self.lines.into());
        SourceRow {
            table: TABLE.into(),
            fields,
        }
    }
}

/// The envelope that stores `stored` (already decoded to `heartbeat`).
pub fn envelope(stored: &Stored, heartbeat: &Heartbeat, received_at: i64) -> Envelope {
    let payload = serde_json::to_vec(stored).unwrap_or_default();
    let key = heartbeat.dedup_key();
    Envelope {
        source: super::SOURCE.to_owned(),
        kind: if stored.kodo.is_some() {
            "kodo"
        } else {
            "heartbeat"
        }
        .to_owned(),
        action: None,
        delivery_id: key.clone(),
        hook_id: None,
        dedup_key: key,
        received_at,
        size: payload.len(),
        payload,
        content_type: ContentType::Json,
        writes: vec![EntityWrite::Row(heartbeat.row())],
    }
}

/// A stored heartbeat event's row again, for `reckon reindex`.
pub fn project_stored(event: &crate::store::RawEvent) -> Vec<EntityWrite> {
    let Ok(stored) = serde_json::from_slice::<Stored>(&event.payload) else {
        return Vec::new();
    };
    let Ok(heartbeat) = stored.decode() else {
        return Vec::new();
    };
    vec![EntityWrite::Row(heartbeat.row())]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(item: &str) -> Stored {
        Stored {
            user: "ada".into(),
            machine: Some("laptop".into()),
            user_agent: Some("wakatime/13.1.0 (Linux-6.1.0-x86_64-with-glibc2.36) Python3.11.2.final.0 vim/9.0 vim-wakatime/9.0.0".into()),
            timezone: None,
            heartbeat: Some(RawValue::from_string(item.into()).unwrap()),
            kodo: None,
        }
    }

    #[test]
    fn wakatime_items_decode_with_their_context() {
        let hb = stored(r#"{"entity":"/src/main.rs","type":"file","time":1700000000.1234,"project":"reckon","language":"Rust","is_write":true,"lines":10,"ai_line_changes":3}"#)
            .decode()
            .unwrap();
        assert_eq!(hb.time_ms, 1_700_000_000_123);
        assert_eq!(hb.editor, "vim");
        assert_eq!(hb.os, "Linux");
        assert_eq!(hb.machine, "laptop");
        assert_eq!(hb.branch, UNKNOWN);
        assert_eq!(hb.category, "coding");
        assert!(hb.is_write);
    }

    #[test]
    fn bad_items_say_why() {
        let err = stored(r#"{"type":"file","time":1}"#).decode().unwrap_err();
        assert!(err.contains("entity"), "{err}");
        let err = stored(r#"{"entity":"a","time":"soon"}"#)
            .decode()
            .unwrap_err();
        assert!(err.contains("time"), "{err}");
        let err = stored(r#"[1]"#).decode().unwrap_err();
        assert!(err.contains("object"), "{err}");
    }

    #[test]
    fn user_agents_name_editor_and_os() {
        let (editor, os) = parse_user_agent(
            "wakatime/v1.73.0 (darwin-22.1.0-arm64) go1.19 vscode/1.70.0 vscode-wakatime/4.0.0",
        );
        assert_eq!(
            (editor.as_deref(), os.as_deref()),
            (Some("vscode"), Some("Mac"))
        );
        let (editor, os) = parse_user_agent("wakatime/13.1.0 (Windows-10) Python3.8 emacs/27");
        assert_eq!(
            (editor.as_deref(), os.as_deref()),
            (Some("emacs"), Some("Windows"))
        );
        assert_eq!(parse_user_agent("curl/8.0"), (Some("curl".into()), None));
    }

    #[test]
    fn dedup_keys_ignore_context_but_not_time() {
        let a = stored(r#"{"entity":"a","time":1700000000.0001}"#)
            .decode()
            .unwrap();
        let mut b = a.clone();
        b.machine = "other".into();
        assert_eq!(a.dedup_key(), b.dedup_key());
        b.time_ms += 1;
        assert_ne!(a.dedup_key(), b.dedup_key());
    }
}
