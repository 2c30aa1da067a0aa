//! The body of an SQS message. Reckon sends `{"id": 7, "kind": "...", "spec": {...}}`;
//! EventBridge Scheduler sends a bare task such as `{"task": "reconcile", "org":
//! "acme", ...}`, which gets its record when a worker first receives it.
//!
//! The kind is a field of the body, not a message attribute: the body is what survives
//! every path a message takes (redrive from the dead-letter queue, a copy pasted into
//! the console, an EventBridge target's fixed input, which has no attributes), and
//! bodies without `kind`, as Reckon wrote them before, read as `LEGACY_KIND`.

use serde::{Deserialize, Serialize};

use crate::queue::{Task, LEGACY_KIND};

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A task with a ledger record; `error` is set on dead-letter copies.
    Task {
        id: i64,
        task: Task,
        error: Option<String>,
    },
    /// A task from outside Reckon, not yet recorded: `{"kind": "...", "spec": {...}}`,
    /// or any other JSON object, which is a task of `LEGACY_KIND` (as EventBridge
    /// schedules send). Whether its kind and JSON make sense is the worker's to say.
    Spec(Task),
    /// Neither: moved to the dead-letter queue as it is.
    Unreadable(String),
}

fn legacy_kind() -> String {
    LEGACY_KIND.to_owned()
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    id: i64,
    #[serde(default = "legacy_kind")]
    kind: String,
    spec: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// A task from outside Reckon that names its kind.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kinded {
    kind: String,
    spec: serde_json::Value,
}

impl Body {
    pub fn parse(raw: &str) -> Body {
        let value: serde_json::Value = match serde_json::from_str(raw) {
            Ok(value) => value,
            Err(e) => return Body::Unreadable(format!("not a task: {e}")),
        };
        let Some(object) = value.as_object() else {
            return Body::Unreadable("not a task: not a JSON object".into());
        };
        if object.contains_key("id") {
            return match serde_json::from_value::<Wire>(value) {
                Ok(wire) => Body::Task {
                    id: wire.id,
                    task: Task {
                        kind: wire.kind,
                        payload: wire.spec,
                    },
                    error: wire.error,
                },
                Err(e) => Body::Unreadable(format!("not a task: {e}")),
            };
        }
        if object.contains_key("kind") {
            return match serde_json::from_value::<Kinded>(value) {
                Ok(k) if !k.kind.is_empty() => Body::Spec(Task {
                    kind: k.kind,
                    payload: k.spec,
                }),
                Ok(_) => Body::Unreadable("not a task: an empty kind".into()),
                Err(e) => Body::Unreadable(format!("not a task: {e}")),
            };
        }
        if object.is_empty() {
            return Body::Unreadable("not a task: an empty object".into());
        }
        Body::Spec(Task::legacy(value))
    }

    pub fn to_json(&self) -> String {
        let wire = match self {
            Body::Task { id, task, error } => Wire {
                id: *id,
                kind: task.kind.clone(),
                spec: task.payload.clone(),
                error: error.clone(),
            },
            Body::Spec(task) => {
                let kinded = Kinded {
                    kind: task.kind.clone(),
                    spec: task.payload.clone(),
                };
                return serde_json::to_string(&kinded).expect("task messages serialize");
            }
            Body::Unreadable(raw) => return raw.clone(),
        };
        serde_json::to_string(&wire).expect("task messages serialize")
    }

    pub fn task_id(&self) -> Option<i64> {
        match self {
            Body::Task { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// A received message.
pub struct Delivery {
    pub message_id: String,
    pub receipt: String,
    pub raw: String,
    pub body: Body,
}

impl Delivery {
    pub fn from_message(message: &aws_sdk_sqs::types::Message) -> Option<Delivery> {
        let receipt = message.receipt_handle()?.to_owned();
        let raw = message.body().unwrap_or_default().to_owned();
        Some(Delivery {
            message_id: message.message_id().unwrap_or_default().to_owned(),
            receipt,
            body: Body::parse(&raw),
            raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn teams(org: &str) -> Task {
        Task::legacy(serde_json::json!({"task": "teams", "org": org}))
    }

    #[test]
    fn reckon_messages_round_trip_with_their_kind() {
        for task in [
            teams("acme"),
            Task {
                kind: "other".into(),
                payload: serde_json::json!({"task": "teams", "org": "acme"}),
            },
        ] {
            let body = Body::Task {
                id: 7,
                task,
                error: Some("boom".into()),
            };
            assert_eq!(Body::parse(&body.to_json()), body);
        }
        assert!(Body::Task {
            id: 7,
            task: teams("acme"),
            error: None
        }
        .to_json()
        .contains(r#""kind":"github-sync""#));
    }

    #[test]
    fn old_messages_without_a_kind_are_legacy_tasks() {
        let raw = r#"{"id":7,"spec":{"task":"teams","org":"acme"}}"#;
        assert_eq!(
            Body::parse(raw),
            Body::Task {
                id: 7,
                task: teams("acme"),
                error: None
            }
        );
    }

    #[test]
    fn eventbridge_messages_are_bare_specs() {
        let raw = r#"{"task":"reconcile","org":"acme","scheduled_at":"2026-11-29T07:07:00Z"}"#;
        assert_eq!(
            Body::parse(raw),
            Body::Spec(Task::legacy(serde_json::json!({
                "task": "reconcile",
                "org": "acme",
                "scheduled_at": "2026-11-29T07:07:00Z",
            })))
        );
        let kinded = r#"{"kind":"other","spec":{"a":1}}"#;
        assert_eq!(
            Body::parse(kinded),
            Body::Spec(Task {
                kind: "other".into(),
                payload: serde_json::json!({"a": 1}),
            })
        );
        assert_eq!(
            Body::parse(&Body::parse(kinded).to_json()),
            Body::parse(kinded)
        );
    }

    #[test]
    fn anything_else_is_unreadable() {
        for raw in [
            "",
            "{}",
            "[1]",
            "7",
            r#"{"id":1}"#,
            r#"{"kind":"","spec":{}}"#,
            r#"{"kind":"x"}"#,
        ] {
            assert!(matches!(Body::parse(raw), Body::Unreadable(_)), "{raw}");
        }
    }
}
