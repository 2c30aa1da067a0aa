//! What a server submits, decoded into events: DCSS `{type, src, data}` objects and raw
//! xlog lines. Each event knows its journal payload, its dedup key and the read-model
//! row the pipeline stores with it, so `reckon reindex` can derive the row again.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::xlog;
use crate::model::{EntityWrite, Envelope, SourceRow};
use crate::store::RawEvent;

/// The read model's table (SQLite) and index kind (Elasticsearch).
pub const TABLE: &str = "server_events";

/// Longest `type`, and longest xlog file name, accepted.
const MAX_NAME: usize = 64;
const MAX_FILE: usize = 200;

/// One submitted event, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
    /// `milestone`, `game`, or whatever type the server gives.
    pub kind: String,
    /// The server that sent it, e.g. `cpo`.
    pub src: String,
    pub data: Map<String, Value>,
    /// The xlog line as received, when the event came as one.
    pub xlog: Option<String>,
    /// Where the line sits in the server's file: `(file, byte offset)`, the dedup key.
    pub origin: Option<(String, u64)>,
}

/// Why a submission is not a valid event; `line` counts xlog lines from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Event { position: usize, reason: String },
    Xlog { line: usize, reason: String },
}

/// One JSON submission: an event (`type`, `src`, `data`) or an xlog line (`xlog`).
/// Other fields are ignored, as the design Reckon replaces ignored them.
#[derive(Deserialize)]
struct Item {
    #[serde(rename = "type")]
    kind: Option<String>,
    src: Option<String>,
    data: Option<Value>,
    xlog: Option<String>,
    file: Option<String>,
    offset: Option<u64>,
}

impl ServerEvent {
    /// The dedup key: the line's place in its file when the sender gave one.
    pub fn dedup_key(&self) -> Option<String> {
        self.origin
            .as_ref()
            .map(|(file, offset)| format!("xlog/{}/{file}/{offset}", self.src))
    }

    /// The journal payload: the event as submitted, plus the raw line and its place.
    /// Serialized from borrows, keys in sorted order as stored since the first version.
    pub fn payload(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Payload<'a> {
            data: &'a Map<String, Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            file: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            offset: Option<u64>,
            src: &'a str,
            #[serde(rename = "type")]
            kind: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            xlog: Option<&'a str>,
        }
        serde_json::to_vec(&Payload {
            data: &self.data,
            file: self.origin.as_ref().map(|(file, _)| file.as_str()),
            offset: self.origin.as_ref().map(|(_, offset)| *offset),
            src: &self.src,
            kind: &self.kind,
            xlog: self.xlog.as_deref(),
        })
        .expect("JSON maps serialize")
    }

    /// The read-model row: the facts the stats group by, and the data for listings.
    pub fn row(&self) -> SourceRow {
        self.clone().into_row()
    }

    /// [`Self::row`], moving the data instead of copying it.
    fn into_row(self) -> SourceRow {
        let facts = xlog::facts(&self.kind, &self.data);
        let mut fields = Map::new();
        fields.insert("src".into(), self.src.clone().into());
        fields.insert("type".into(), self.kind.clone().into());
        fields.insert("player".into(), facts.player.map(short).into());
        fields.insert("ktyp".into(), facts.ktyp.map(short).into());
        fields.insert(
            "milestone_type".into(),
            facts.milestone_type.map(short).into(),
        );
        fields.insert("won".into(), facts.won.into());
        fields.insert("game_time".into(), facts.game_time_ms.into());
        fields.insert("data".into(), Value::Object(self.data));
        SourceRow {
            table: TABLE.into(),
            fields,
        }
    }

    /// The envelope the pipeline stores: the payload in the journal, the row beside it.
    /// Events without a place in a file get a random delivery id and are never merged.
    pub fn envelope(&self, source: &str, received_at: i64, size: usize) -> Envelope {
        self.clone().into_envelope(source, received_at, size)
    }

    /// [`Self::envelope`], moving the event's data into its row instead of copying it.
    pub fn into_envelope(self, source: &str, received_at: i64, size: usize) -> Envelope {
        let delivery_id = self
            .dedup_key()
            .unwrap_or_else(|| format!("gen-{:032x}", rand::random::<u128>()));
        Envelope {
            source: source.to_owned(),
            kind: self.kind.clone(),
            action: None,
            dedup_key: delivery_id.clone(),
            delivery_id,
            hook_id: None,
            received_at,
            size,
            payload: self.payload(),
            content_type: crate::model::ContentType::Json,
            writes: vec![EntityWrite::Row(self.into_row())],
        }
    }

    /// Reads a stored payload back (for `reckon reindex`).
    pub fn from_payload(payload: &[u8]) -> Option<ServerEvent> {
        let item: Item = serde_json::from_slice(payload).ok()?;
        let data = match item.data? {
            Value::Object(map) => map,
            _ => return None,
        };
        Some(ServerEvent {
            kind: item.kind?,
            src: item.src?,
            data,
            xlog: item.xlog,
            origin: item.file.zip(item.offset),
        })
    }
}

/// The read-model row of a stored server event, for `reckon reindex`; nothing for
/// payloads that are not server events (other sources' events).
pub fn project_stored(event: &RawEvent) -> Vec<EntityWrite> {
    match ServerEvent::from_payload(&event.payload) {
        Some(e) if e.kind == event.kind => vec![EntityWrite::Row(e.row())],
        _ => Vec::new(),
    }
}

/// Decodes a JSON body: one event or xlog line, or a list of them.
pub fn decode_json(
    body: &[u8],
    default_src: Option<&str>,
) -> Result<Vec<ServerEvent>, DecodeError> {
    let not_json = |e: serde_json::Error| {
        DecodeError::Event {
        position: 1,
        reason: format!("not a submission (an object with `type`, `src` and `data`, or with `xlog`, or a list of them): {e}"),
    }
    };
    let items: Vec<Item> = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => serde_json::from_slice(body).map_err(not_json)?,
        _ => vec![serde_json::from_slice(body).map_err(not_json)?],
    };
    if items.is_empty() {
        return Err(DecodeError::Event {
            position: 1,
            reason: "the list is empty".into(),
        });
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| decode_item(item, i + 1, default_src))
        .collect()
}

fn decode_item(
    item: Item,
    position: usize,
    default_src: Option<&str>,
) -> Result<ServerEvent, DecodeError> {
    let invalid = |reason: String| DecodeError::Event { position, reason };
    let src = item
        .src
        .or_else(|| default_src.map(str::to_owned))
        .ok_or_else(|| invalid("`src` is missing".into()))?;
    check_src(&src).map_err(invalid)?;
    let origin = match (item.file, item.offset) {
        (Some(file), Some(offset)) => Some((check_file(file).map_err(invalid)?, offset)),
        (None, None) => None,
        _ => return Err(invalid("`file` and `offset` come together".into())),
    };
    match (item.data, item.xlog) {
        (Some(_), Some(_)) => Err(invalid("send either `data` or `xlog`, not both".into())),
        (None, None) => Err(invalid("`data` is missing".into())),
        (Some(data), None) => {
            let kind = item
                .kind
                .ok_or_else(|| invalid("`type` is missing".into()))?;
            check_kind(&kind).map_err(invalid)?;
            let Value::Object(data) = data else {
                return Err(invalid("`data` must be an object".into()));
            };
            Ok(ServerEvent {
                kind,
                src,
                data,
                xlog: None,
                origin,
            })
        }
        (None, Some(line)) => {
            let line = line.trim_end_matches(['\n', '\r']);
            let mut event = from_line(line, item.kind.as_deref(), &src).map_err(|reason| {
                DecodeError::Xlog {
                    line: position,
                    reason,
                }
            })?;
            event.origin = origin;
            Ok(event)
        }
    }
}

/// Decodes a `text/plain` body of xlog lines; `first_offset` is where its first line
/// sits in `file`, so each line gets its own offset.
pub fn decode_lines(
    body: &[u8],
    kind: Option<&str>,
    src: &str,
    place: Option<(&str, u64)>,
) -> Result<Vec<ServerEvent>, DecodeError> {
    check_src(src).map_err(|reason| DecodeError::Event {
        position: 1,
        reason,
    })?;
    let file = match place {
        Some((file, _)) => {
            Some(
                check_file(file.to_owned()).map_err(|reason| DecodeError::Event {
                    position: 1,
                    reason,
                })?,
            )
        }
        None => None,
    };
    let mut events = Vec::new();
    for (line_no, offset, line) in xlog::lines_with_offsets(body, place.map(|(_, o)| o)) {
        let line = line.map_err(|e| DecodeError::Xlog {
            line: line_no,
            reason: e.to_string(),
        })?;
        let mut event = from_line(line, kind, src).map_err(|reason| DecodeError::Xlog {
            line: line_no,
            reason,
        })?;
        event.origin = file.clone().zip(offset);
        events.push(event);
    }
    if events.is_empty() {
        return Err(DecodeError::Xlog {
            line: 1,
            reason: "the body holds no xlog line".into(),
        });
    }
    Ok(events)
}

fn from_line(line: &str, kind: Option<&str>, src: &str) -> Result<ServerEvent, String> {
    let parsed = xlog::parse_line(line).map_err(|e| e.to_string())?;
    let kind = match kind {
        Some(kind) => kind.to_owned(),
        None => parsed
            .kind()
            .ok_or("neither a milestone (no `milestone` field) nor a game (no `ktyp` field); say which with ?type=")?
            .to_owned(),
    };
    check_kind(&kind)?;
    Ok(ServerEvent {
        kind,
        src: src.to_owned(),
        data: parsed.to_json(),
        xlog: Some(line.to_owned()),
        origin: None,
    })
}

fn check_kind(kind: &str) -> Result<(), String> {
    if kind.is_empty() || kind.len() > MAX_NAME || kind.chars().any(char::is_control) {
        return Err(format!(
            "`type` must be 1 to {MAX_NAME} printable characters"
        ));
    }
    Ok(())
}

fn check_src(src: &str) -> Result<(), String> {
    if !crate::sources::is_valid_src(src) {
        return Err(format!(
            "`src` `{}` is not a server name: use a-z, A-Z, 0-9, '-', '_' and '.', at most 64 characters",
            src.chars().take(80).collect::<String>()
        ));
    }
    Ok(())
}

fn check_file(file: String) -> Result<String, String> {
    if file.is_empty() || file.len() > MAX_FILE || file.chars().any(char::is_control) {
        return Err(format!(
            "the file name must be 1 to {MAX_FILE} printable characters"
        ));
    }
    Ok(file)
}

/// Longest player name or outcome the stats group by: a key, not a document (a search
/// engine refuses keyword terms past 32 KiB). The data keeps the whole value.
const MAX_FACT: usize = 256;

fn short(mut value: String) -> String {
    if value.len() > MAX_FACT {
        let mut end = MAX_FACT;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
    }
    value
}
