//! Delivering one batch to `POST /submit`, at least once: 408, 429, 5xx and connection
//! failures are retried with capped exponential backoff and jitter until shut down; any
//! other answer but 204 stops the shipper, so no line is ever skipped silently.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use secrecy::ExposeSecret;
use serde::Deserialize;
use tracing::{error, warn};

use super::tail::Batch;
use super::{ShipArgs, ShipError, Shutdown};

/// A `Retry-After` beyond this is taken as this.
const MAX_RETRY_AFTER_SECS: u64 = 3600;
/// Longest part of a non-JSON error body quoted in the error.
const MAX_MESSAGE_CHARS: usize = 300;

pub enum Delivery {
    /// The server answered 204 after this many retries.
    Stored { retries: u64 },
    /// Shut down while waiting to retry; the batch is not stored.
    Interrupted,
}

enum Attempt {
    Stored,
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    Refused(ShipError),
}

/// Waits between retries: `base · 2^(attempt-1)` capped at `max`, of which a random
/// part of up to half is left out, so many shippers do not retry in step.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base_ms: u64,
    pub max_ms: u64,
}

impl Backoff {
    /// The wait after failed attempt `attempt` (counted from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doubling = attempt.saturating_sub(1).min(40);
        let full = self
            .base_ms
            .saturating_mul(1u64 << doubling)
            .min(self.max_ms);
        let half = full / 2;
        Duration::from_millis(full - half + rand::random_range(0..=half))
    }
}

/// The error body every Reckon error answer has.
#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    #[serde(default)]
    message: String,
}

pub struct Sender {
    client: reqwest::Client,
    submit: Url,
    auth: HeaderValue,
    src: Option<HeaderValue>,
    backoff: Backoff,
}

/// `<base>/submit`, keeping any path prefix the base has (Reckon behind a proxy).
pub fn submit_url(base: &Url) -> Result<Url, ShipError> {
    if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
        return Err(ShipError::Url {
            url: base.to_string(),
        });
    }
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let path = format!("{}/submit", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Ok(url)
}

impl Sender {
    pub fn new(args: &ShipArgs) -> Result<Self, ShipError> {
        let submit = submit_url(&args.url)?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", args.key.expose_secret()))
            .map_err(ShipError::Key)?;
        auth.set_sensitive(true);
        let src = match &args.src {
            Some(src) => Some(HeaderValue::from_str(src).map_err(|source| ShipError::Src {
                src: src.clone(),
                source,
            })?),
            None => None,
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(args.timeout_secs.max(1)))
            .connect_timeout(Duration::from_secs(args.timeout_secs.clamp(1, 10)))
            // A redirected POST would turn into a GET; say so instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("reckon-ship/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ShipError::Client)?;
        Ok(Sender {
            client,
            submit,
            auth,
            src,
            backoff: Backoff {
                base_ms: args.retry_base_ms,
                max_ms: args.retry_max_ms.max(args.retry_base_ms),
            },
        })
    }

    /// Sends `batch` until the server stores it, refuses it, or `shutdown` fires while
    /// waiting to retry. A request in flight is always finished (or timed out) first.
    pub async fn send(
        &self,
        batch: &Batch,
        shutdown: &mut Shutdown<'_>,
    ) -> Result<Delivery, ShipError> {
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            let (reason, after) = match self.attempt(batch).await {
                Attempt::Stored => {
                    let retries = u64::from(attempt - 1);
                    return Ok(Delivery::Stored { retries });
                }
                Attempt::Refused(error) => return Err(error),
                Attempt::Retry { reason, after } => (reason, after),
            };
            let wait = after.unwrap_or_else(|| self.backoff.delay(attempt));
            warn!(file = %batch.key, offset = batch.offset, attempt, reason = %reason,
                retry_in_ms = wait.as_millis() as u64, "submit failed; retrying");
            tokio::select! {
                () = shutdown.wait() => return Ok(Delivery::Interrupted),
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn attempt(&self, batch: &Batch) -> Attempt {
        let mut request = self
            .client
            .post(self.submit.clone())
            .header(AUTHORIZATION, self.auth.clone())
            .header(CONTENT_TYPE, "text/plain; charset=utf-8")
            .header("x-xlog-file", batch.key.as_str())
            .header("x-xlog-offset", batch.offset)
            .body(batch.body.clone());
        if let Some(src) = &self.src {
            request = request.header("x-xlog-src", src.clone());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) if e.is_builder() => return Attempt::Refused(ShipError::Request(e)),
            Err(e) => {
                return Attempt::Retry {
                    reason: error_chain(&e),
                    after: None,
                }
            }
        };
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Attempt::Stored;
        }
        if retryable(status) {
            return Attempt::Retry {
                reason: format!("HTTP {status}"),
                after: retry_after(response.headers()),
            };
        }
        Attempt::Refused(refusal(batch, response).await)
    }
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// `Retry-After` in seconds (the HTTP-date form falls back to the backoff).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds.min(MAX_RETRY_AFTER_SECS)))
}

/// The error for an answer that will not change on retry, logged with the server's
/// `code` and `message`.
async fn refusal(batch: &Batch, response: reqwest::Response) -> ShipError {
    let status = response.status();
    // A body that cannot be read still leaves the status to report.
    let body = response.bytes().await.unwrap_or_default();
    let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(parsed) => (Some(parsed.code), parsed.message),
        Err(_) => {
            let text = String::from_utf8_lossy(&body);
            let text: String = text.trim().chars().take(MAX_MESSAGE_CHARS).collect();
            let text = if text.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("no reason given")
                    .to_owned()
            } else {
                text
            };
            (None, text)
        }
    };
    error!(file = %batch.key, offset = batch.offset, status = status.as_u16(),
        code = code.as_deref().unwrap_or(""), message = %message,
        "the server refused the batch; stopping");
    ShipError::Refused {
        file: batch.key.clone(),
        offset: batch.offset,
        status: status.as_u16(),
        code,
        message,
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let backoff = Backoff {
            base_ms: 100,
            max_ms: 1000,
        };
        for _ in 0..50 {
            let ms = |attempt| backoff.delay(attempt).as_millis();
            assert!((50..=100).contains(&ms(1)));
            assert!((100..=200).contains(&ms(2)));
            assert!((200..=400).contains(&ms(3)));
            assert!((500..=1000).contains(&ms(5)));
            assert!((500..=1000).contains(&ms(u32::MAX)));
        }
        let zero = Backoff {
            base_ms: 0,
            max_ms: 0,
        };
        assert_eq!(zero.delay(3), Duration::ZERO);
    }

    #[test]
    fn retry_after_takes_seconds_only() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            retry_after(&headers)
        };
        assert_eq!(with("7"), Some(Duration::from_secs(7)));
        assert_eq!(with(" 0 "), Some(Duration::ZERO));
        assert_eq!(with("999999"), Some(Duration::from_secs(3600)));
        assert_eq!(with("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn retryable_statuses() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [200, 302, 400, 401, 403, 404, 409, 413, 422] {
            assert!(!retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }

    #[test]
    fn submit_url_keeps_the_base_path() {
        let url = |base: &str| submit_url(&Url::parse(base).unwrap()).map(|u| u.to_string());
        assert_eq!(
            url("https://reckon.example").unwrap(),
            "https://reckon.example/submit"
        );
        assert_eq!(
            url("http://127.0.0.1:8080/reckon/?x=1").unwrap(),
            "http://127.0.0.1:8080/reckon/submit"
        );
        assert!(matches!(
            url("ftp://reckon.example"),
            Err(ShipError::Url { .. })
        ));
        assert!(matches!(
            url("mailto:ops@example.com"),
            Err(ShipError::Url { .. })
        ));
    }
}
