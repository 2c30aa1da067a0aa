//! The body of an SQS message. Reckon sends `{"id": 7, "spec": {...}}`; EventBridge
//! Scheduler sends a bare spec such as `{"task": "reconcile", "org": "acme", ...}`,
//! which gets its record when a worker first receives it.

use serde::{Deserialize, Serialize};

use crate::sources::github::sync::TaskSpec;

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A task with a ledger record; `error` is set on dead-letter copies.
    Task {
        id: i64,
        spec: TaskSpec,
        error: Option<String>,
    },
    /// A spec from outside Reckon, not yet recorded.
    Spec(TaskSpec),
    /// Neither: moved to the dead-letter queue as it is.
    Unreadable(String),
}

#[derive(Serialize, Deserialize)]
struct Wire {
    id: i64,
    spec: TaskSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Body {
    pub fn parse(raw: &str) -> Body {
        if let Ok(wire) = serde_json::from_str::<Wire>(raw) {
            return Body::Task {
                id: wire.id,
                spec: wire.spec,
                error: wire.error,
            };
        }
        match serde_json::from_str::<TaskSpec>(raw) {
            Ok(spec) => match spec.validate() {
                Ok(()) => Body::Spec(spec),
                Err(e) => Body::Unreadable(e.to_string()),
            },
            Err(e) => Body::Unreadable(format!("not a task: {e}")),
        }
    }

    pub fn to_json(&self) -> String {
        let wire = match self {
            Body::Task { id, spec, error } => Wire {
                id: *id,
                spec: spec.clone(),
                error: error.clone(),
            },
            Body::Spec(spec) => return serde_json::to_string(spec).expect("specs serialize"),
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

    #[test]
    fn reckon_messages_round_trip() {
        let body = Body::Task {
            id: 7,
            spec: TaskSpec::Teams { org: "acme".into() },
            error: None,
        };
        assert_eq!(Body::parse(&body.to_json()), body);
    }

    #[test]
    fn eventbridge_messages_are_bare_specs() {
        let raw = r#"{"task":"reconcile","org":"acme","scheduled_at":"2026-11-29T07:07:00Z"}"#;
        assert_eq!(
            Body::parse(raw),
            Body::Spec(TaskSpec::Reconcile {
                org: "acme".into(),
                scheduled_at: Some("2026-11-29T07:07:00Z".into()),
            })
        );
    }

    #[test]
    fn anything_else_is_unreadable() {
        for raw in [
            "",
            "{}",
            "[1]",
            r#"{"task":"teams","org":"not/an/org"}"#,
            r#"{"id":1}"#,
        ] {
            assert!(matches!(Body::parse(raw), Body::Unreadable(_)), "{raw}");
        }
    }
}
