//! What the queue carries: a task is a kind and a JSON payload, nothing more. Sources
//! give their jobs a kind and register them with the launcher (`launcher::Jobs`); the
//! queue stores, leases and deduplicates `(kind, json)` without knowing any of them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The kind of every task stored before the queue stored kinds: SQLite rows from
/// before the `kind` column, SQS messages and ledger records without a `kind`. They
/// were all GitHub sync tasks. This is a fact about old data, fixed forever; the queue
/// neither decodes nor runs them (the GitHub slice registers this kind).
pub const LEGACY_KIND: &str = "github-sync";

/// One queued unit of work: which job (`kind`) and its arguments (`payload`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub kind: String,
    pub payload: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot encode a `{kind}` task as JSON")]
pub struct EncodeError {
    pub kind: String,
    #[source]
    pub source: serde_json::Error,
}

impl Task {
    /// A task of `kind` whose payload is `args` as JSON.
    pub fn new(kind: &str, args: &impl Serialize) -> Result<Task, EncodeError> {
        let payload = serde_json::to_value(args).map_err(|source| EncodeError {
            kind: kind.to_owned(),
            source,
        })?;
        Ok(Task {
            kind: kind.to_owned(),
            payload,
        })
    }

    /// A task written before kinds existed: its JSON is the payload.
    pub fn legacy(payload: serde_json::Value) -> Task {
        Task {
            kind: LEGACY_KIND.to_owned(),
            payload,
        }
    }

    /// The payload as canonical JSON: object keys sorted at every level, no spaces.
    pub fn canonical_json(&self) -> String {
        let mut out = String::new();
        canonical(&self.payload, &mut out);
        out
    }

    /// What makes two tasks identical while pending: the kind and the canonical JSON.
    /// Two kinds with equal JSON are different tasks.
    pub fn identity(&self) -> String {
        format!("{}\n{}", self.kind, self.canonical_json())
    }

    /// The identity hashed, for stores that want short keys (the SQS ledger's claims).
    pub fn identity_hash(&self) -> String {
        hex::encode(Sha256::digest(self.identity().as_bytes()))
    }
}

fn canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_ignores_key_order_but_not_kind() {
        let a = Task {
            kind: "one".into(),
            payload: serde_json::from_str(r#"{"b":1,"a":{"y":[2,{"d":1,"c":0}],"x":null}}"#)
                .unwrap(),
        };
        let b = Task {
            kind: "one".into(),
            payload: serde_json::from_str(r#"{"a":{"x":null,"y":[2,{"c":0,"d":1}]},"b":1}"#)
                .unwrap(),
        };
        assert_eq!(a.identity(), b.identity());
        assert_eq!(
            a.canonical_json(),
            r#"{"a":{"x":null,"y":[2,{"c":0,"d":1}]},"b":1}"#
        );
        let other = Task {
            kind: "two".into(),
            ..a.clone()
        };
        assert_ne!(a.identity(), other.identity());
        assert_ne!(a.identity_hash(), other.identity_hash());
    }
}
