//! Answers too large to build twice: a JSON object whose one array is written item by
//! item as the client reads, so an answer's serialised bytes never sit in memory whole
//! (only the items do, and each is freed once written).

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use http_body_util::Channel;
use serde::Serialize;

/// Items serialised ahead of the client.
const AHEAD: usize = 2;

/// `{…head fields…, "<array>": [items…], …tail fields…}`: `head` and `tail` are the
/// other fields, serialised by the caller as `"key":value` pairs joined by commas.
pub struct JsonArrayAnswer<T> {
    pub head: String,
    pub array: &'static str,
    pub items: Vec<T>,
    pub tail: String,
}

/// The `"key":value` pair of one field, for `head` and `tail`.
pub fn field(key: &str, value: &impl Serialize) -> String {
    let key = serde_json::to_string(key).unwrap_or_default();
    let value = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    format!("{key}:{value}")
}

impl<T: Serialize + Send + 'static> JsonArrayAnswer<T> {
    fn opening(&self) -> String {
        let array = format!("{}:", serde_json::to_string(self.array).unwrap_or_default());
        match self.head.is_empty() {
            true => format!("{{{array}["),
            false => format!("{{{},{array}[", self.head),
        }
    }

    fn closing(&self) -> String {
        match self.tail.is_empty() {
            true => "]}".into(),
            false => format!("],{}}}", self.tail),
        }
    }
}

impl<T: Serialize + Send + 'static> IntoResponse for JsonArrayAnswer<T> {
    fn into_response(self) -> Response {
        let (mut sender, body) = Channel::<Bytes>::new(AHEAD);
        let (opening, closing) = (self.opening(), self.closing());
        tokio::spawn(async move {
            if sender.send_data(opening.into()).await.is_err() {
                return;
            }
            for (i, item) in self.items.into_iter().enumerate() {
                let mut chunk = if i == 0 { Vec::new() } else { b",".to_vec() };
                if let Err(error) = serde_json::to_writer(&mut chunk, &item) {
                    // Types that serialise infallibly; never half an answer silently.
                    tracing::error!(%error, "cannot serialise an answer item");
                    return;
                }
                if sender.send_data(chunk.into()).await.is_err() {
                    return; // the client went away
                }
            }
            let _ = sender.send_data(closing.into()).await;
        });
        (
            [(header::CONTENT_TYPE, "application/json")],
            Body::new(body),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[derive(Serialize)]
    struct Whole {
        source: String,
        events: Vec<serde_json::Value>,
        next_cursor: Option<String>,
    }

    #[tokio::test]
    async fn the_streamed_answer_is_the_serialised_whole() {
        for items in [
            vec![],
            vec![serde_json::json!({"a": 1})],
            vec![serde_json::json!(1), serde_json::json!("two\"")],
        ] {
            let whole = Whole {
                source: "s\u{e9}".into(),
                events: items.clone(),
                next_cursor: Some("7".into()),
            };
            let streamed = JsonArrayAnswer {
                head: field("source", &whole.source),
                array: "events",
                items,
                tail: field("next_cursor", &whole.next_cursor),
            };
            let body = streamed
                .into_response()
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes();
            assert_eq!(body, serde_json::to_vec(&whole).unwrap());
        }
    }
}
