//! Live counters. `GET /api/v1/live` upgrades to a WebSocket: each `views` message is
//! counted like a beacon and answered with the article's total views, and every reader
//! of an article is pushed its new totals as views arrive. `GET …/sites/{site}/live`
//! streams the same news to dashboards as server-sent events. News comes from the
//! store, never from one process's memory, so a view taken by one replica reaches
//! readers on every other: one poller per process follows the store's view sequence.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{broadcast, mpsc, Notify};

use super::collect::{self, Incoming, Sender};
use super::hit::Via;
use super::store::ArticleCounts;
use crate::access::{Reader, Resource};
use crate::http::error::ApiError;
use crate::http::query::ApiQuery;
use crate::http::AppState;
use crate::store::Store;

/// Views the poller reads per look.
const BATCH: usize = 5000;
/// Pushes a slow reader may fall behind before it skips to the newest.
const BACKLOG: usize = 64;
/// Most articles one socket may follow (a page shows a few counters).
const MAX_FOLLOWED: usize = 100;
/// The largest message a reader's page may send: a view is a few hundred bytes.
const MAX_MESSAGE: usize = 8192;
/// The topic a site's dashboards follow (an article id is never empty).
const SITE_TOPIC: &str = "";

type Topic = (String, String);

/// One process's readers, by (site, article), and the poller that feeds them.
pub struct Live {
    topics: Mutex<HashMap<Topic, broadcast::Sender<Utf8Bytes>>>,
    wake: Notify,
    poller: OnceLock<()>,
    poll: Duration,
    connections: Arc<tokio::sync::Semaphore>,
}

impl Live {
    pub fn new(poll_ms: u64, max_connections: usize) -> Live {
        Live {
            topics: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            poller: OnceLock::new(),
            poll: Duration::from_millis(poll_ms),
            connections: Arc::new(tokio::sync::Semaphore::new(max_connections)),
        }
    }

    /// Tells the poller this process just stored a view.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Topic, broadcast::Sender<Utf8Bytes>>> {
        self.topics.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Follows one article (or a site, with `SITE_TOPIC`), starting the poller.
    fn subscribe(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        site: &str,
        article: &str,
    ) -> broadcast::Receiver<Utf8Bytes> {
        self.poller.get_or_init(|| {
            tokio::spawn(poll(Arc::downgrade(self), store.clone()));
        });
        let mut topics = self.lock();
        topics
            .entry((site.to_owned(), article.to_owned()))
            .or_insert_with(|| broadcast::channel(BACKLOG).0)
            .subscribe()
    }

    /// Whether any reader follows anything (forgetting topics nobody follows).
    fn has_followers(&self) -> bool {
        let mut topics = self.lock();
        topics.retain(|_, tx| tx.receiver_count() > 0);
        !topics.is_empty()
    }

    /// The topics among `changed` that someone follows; forgets the ones nobody does.
    fn followed(&self, changed: HashSet<Topic>) -> Vec<(Topic, broadcast::Sender<Utf8Bytes>)> {
        let mut topics = self.lock();
        topics.retain(|_, tx| tx.receiver_count() > 0);
        changed
            .into_iter()
            .filter_map(|t| topics.get(&t).map(|tx| (t, tx.clone())))
            .collect()
    }
}

/// Follows the store's views and pushes new counts to the topics they touch. While no
/// reader follows anything it only keeps its place (the last view's seq); after a full
/// batch it reads on at once instead of waiting for the next tick.
async fn poll(live: std::sync::Weak<Live>, store: Arc<dyn Store>) {
    let Some(reads) = super::store::of(store.as_ref()) else {
        return;
    };
    let mut after = last_seq(reads).await.unwrap_or(0);
    let mut behind = false;
    loop {
        let Some(hub) = live.upgrade() else { return };
        if !behind {
            let _ = tokio::time::timeout(hub.poll, hub.wake.notified()).await;
        }
        behind = false;
        if !hub.has_followers() {
            after = last_seq(reads).await.unwrap_or(after);
            continue;
        }
        let changes = match reads.views_after(after, BATCH).await {
            Ok(changes) => changes,
            Err(error) => {
                tracing::warn!(%error, "live counters: cannot read new views");
                continue;
            }
        };
        let Some(last) = changes.last().map(|c| c.seq) else {
            continue;
        };
        after = last;
        behind = changes.len() == BATCH;
        let mut changed = HashSet::new();
        for c in changes {
            changed.insert((c.site.clone(), SITE_TOPIC.to_owned()));
            changed.insert((c.site, c.article));
        }
        push(&hub, reads, changed).await;
    }
}

async fn last_seq(reads: &dyn super::store::PageviewStore) -> Option<i64> {
    reads
        .last_view_seq()
        .await
        .inspect_err(|error| tracing::warn!(%error, "live counters: cannot read the last view"))
        .ok()
}

/// Sends the followed topics among `changed` their news: a site's dashboards a nudge,
/// an article's readers its counts (written once, shared by every reader's socket).
async fn push(hub: &Live, reads: &dyn super::store::PageviewStore, changed: HashSet<Topic>) {
    for ((site, article), tx) in hub.followed(changed) {
        if article == SITE_TOPIC {
            let _ = tx.send(Utf8Bytes::from_static("{}"));
            continue;
        }
        match reads.article_counts(&site, &article).await {
            Ok(counts) => {
                let _ = tx.send(counts_message(&article, counts).into());
            }
            Err(error) => tracing::warn!(%error, site, "live counters: cannot count"),
        }
    }
}

/// The answer and push for an article's counts.
fn counts_message(article: &str, counts: ArticleCounts) -> String {
    json!({"message": "views", "articleId": article, "views": counts.views, "uniques": counts.uniques})
        .to_string()
}

/// A message from a reader's page.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientMessage {
    message: String,
    article_id: Option<String>,
    article_title: Option<String>,
    previous_page: Option<String>,
    current_page: Option<String>,
    #[serde(default)]
    refreshed: bool,
    referrer: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveParams {
    /// The site's domain; default: the one the page's `Origin` names.
    site: Option<String>,
}

/// `GET /api/v1/live`: the WebSocket of live views and counters.
#[utoipa::path(get, path = "/api/v1/live", tag = "pageviews", operation_id = "live_socket",
    params(LiveParams),
    responses(
        (status = 101, description = "a WebSocket: send `{\"message\": \"views\", \"articleId\", \"articleTitle\", \"previousPage\", \"currentPage\", \"refreshed\", \"referrer\"}`; each view is answered `{\"message\": \"views\", \"articleId\", \"views\", \"uniques\"}`, and pushed again as other readers' views arrive"),
        (status = 403, body = crate::http::error::ErrorBody, description = "`unknown_site` or `origin_not_allowed`"),
        (status = 503, body = crate::http::error::ErrorBody, description = "`busy`: too many live readers"),
    ))]
pub async fn socket(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<LiveParams>,
    headers: HeaderMap,
    reader: Reader,
    upgrade: WebSocketUpgrade,
    extensions: axum::http::Extensions,
) -> Response {
    let sender = Sender::of(&state, &headers, collect::peer(&extensions));
    let domain = params
        .site
        .or_else(|| sender.origin.as_deref().and_then(super::referrer::host_of))
        .unwrap_or_default();
    let site = match collect::site_for(&state, &domain, &sender).await {
        Ok(site) => site,
        Err(error) => return error.into_response(),
    };
    let Ok(permit) = state.pageviews.live.connections.clone().try_acquire_owned() else {
        return ApiError::Busy.into_response();
    };
    let counts_visible = site.public_live || reader.allows(&Resource::Site(site.domain.clone()));
    // Small buffers: a reader sends a view now and then and is pushed short messages, and
    // the defaults (128 KiB each) would cost that much per connected reader.
    let upgrade = upgrade
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .read_buffer_size(MAX_MESSAGE)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024);
    upgrade.on_upgrade(move |ws| async move {
        let _permit = permit;
        serve(ws, state, site, sender, counts_visible).await;
    })
}

/// One reader's socket: counts their views and forwards pushes for what they read.
async fn serve(
    mut ws: WebSocket,
    state: AppState,
    site: super::sites::Site,
    sender: Sender,
    counts_visible: bool,
) {
    let (push_tx, mut push_rx) = mpsc::channel::<Utf8Bytes>(BACKLOG);
    let mut following = HashSet::new();
    loop {
        tokio::select! {
            incoming = ws.recv() => {
                let Some(Ok(message)) = incoming else { break };
                let text = match message {
                    Message::Text(text) => text,
                    Message::Close(_) => break,
                    _ => continue,
                };
                let reply = on_message(&state, &site, &sender, text.as_str(), counts_visible, &mut following, &push_tx).await;
                if ws.send(Message::Text(reply.into())).await.is_err() {
                    break;
                }
            }
            Some(push) = push_rx.recv() => {
                if ws.send(Message::Text(push)).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Handles one message; the answer to send back.
async fn on_message(
    state: &AppState,
    site: &super::sites::Site,
    sender: &Sender,
    text: &str,
    counts_visible: bool,
    following: &mut HashSet<String>,
    push_tx: &mpsc::Sender<Utf8Bytes>,
) -> String {
    let error = |code: &str, message: String| {
        json!({"message": "error", "code": code, "error": message}).to_string()
    };
    let Ok(msg) = serde_json::from_str::<ClientMessage>(text) else {
        return error(
            "malformed_body",
            "send {\"message\": \"views\", \"articleId\", ...}".into(),
        );
    };
    let article = super::hit::short(msg.article_id.as_deref().or(msg.current_page.as_deref()));
    let Some(article) = article else {
        return error("invalid_hit", "no `articleId` or `currentPage`".into());
    };
    if msg.message == "views" {
        let incoming = Incoming {
            site: site.domain.clone(),
            page: msg.current_page.clone().or_else(|| Some(article.clone())),
            referrer: msg.referrer.clone().or(msg.previous_page.clone()),
            title: msg.article_title.clone(),
            name: None,
            unique: !msg.refreshed,
            article: Some(article.clone()),
            internal: msg.previous_page.as_deref().is_some_and(|p| !p.is_empty()),
            hash_routing: false,
            props: None,
        };
        if let Err(e) = collect::count(state, site, &incoming, sender, Via::Live).await {
            return error(e.code(), e.to_string());
        }
    } else if msg.message != "subscribe" {
        return error(
            "malformed_body",
            format!(
                "unknown message `{}`: send `views` or `subscribe`",
                msg.message
            ),
        );
    }
    if !counts_visible {
        return json!({"message": "views", "articleId": article}).to_string();
    }
    if !following.contains(&article) && following.len() >= MAX_FOLLOWED {
        return error(
            "too_many_articles",
            format!("one socket follows at most {MAX_FOLLOWED} articles"),
        );
    }
    if following.insert(article.clone()) {
        let mut rx = state
            .pageviews
            .live
            .subscribe(&state.store, &site.domain, &article);
        let tx = push_tx.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(push) => {
                        if tx.send(push).await.is_err() {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }
    let counts = match super::store::of(state.store.as_ref()) {
        Some(reads) => reads
            .article_counts(&site.domain, &article)
            .await
            .unwrap_or_default(),
        None => ArticleCounts::default(),
    };
    counts_message(&article, counts)
}

/// `GET /api/v1/sites/{site}/live`: an event stream with an event `views` each time the
/// site takes new views, for dashboards to refresh on.
#[utoipa::path(get, path = "/api/v1/sites/{site}/live", tag = "pageviews", operation_id = "site_live",
    params(("site" = String, Path, description = "the site's domain")),
    responses(
        (status = 200, description = "server-sent events: `views` whenever the site takes views", content_type = "text/event-stream"),
        (status = 401, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody),
    ))]
pub async fn stream(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    reader: Reader,
) -> Result<Response, ApiError> {
    let site = super::read::readable_site(&state, &reader, &domain).await?;
    let Ok(permit) = state.pageviews.live.connections.clone().try_acquire_owned() else {
        return Err(ApiError::Busy);
    };
    let rx = state
        .pageviews
        .live
        .subscribe(&state.store, &site.domain, SITE_TOPIC);
    let events = futures_util::stream::unfold((rx, permit), |(mut rx, permit)| async move {
        match rx.recv().await {
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                let event = Event::default().event("views").data("{}");
                Some((Ok::<_, std::convert::Infallible>(event), (rx, permit)))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
