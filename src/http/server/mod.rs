//! Reckon's own HTTP/1 accept loop, in place of `axum::serve`, because the public listener
//! faces hostile traffic: every connection gets header, body and idle timeouts, each
//! listener a cap on open connections that sheds idle and slow ones first, and accept
//! errors (EMFILE) back off instead of spinning.

mod service;
mod watch;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

pub(crate) use self::service::BodyTimedOut;
use self::service::ConnService;
use self::watch::{Watch, Watched};
use super::body::BodyBudget;
use super::config::LimitsConfig;

/// How long the loop pauses after a failed accept (EMFILE, ENFILE, ENOBUFS).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// At most one warning per this long for each kind of trouble, with a count of the rest.
const WARN_EVERY: Duration = Duration::from_secs(1);

/// What a connection refused at the cap is told before it is closed.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 5\r\n\
content-type: application/json\r\nconnection: close\r\ncontent-length: 61\r\n\r\n\
{\"code\":\"busy\",\"message\":\"too many connections; retry later\"}";

/// The connection settings of one listener, from `[limits]`.
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub fn from_config(limits: &LimitsConfig) -> Limits {
        Limits {
            header_timeout: limits.header_timeout(),
            body_timeout: limits.body_timeout(),
            idle_timeout: limits.idle_timeout(),
            max_connections: limits.max_connections,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets
/// in-flight requests finish and closes idle connections before returning.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    budget: Arc<BodyBudget>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = Graceful::new();
    let open = Arc::new(Open::new(limits.max_connections));
    let mut accept_warn = Warn::default();
    let mut shed_warn = Warn::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                accept_warn.warn(|suppressed| {
                    tracing::warn!(%error, suppressed, "accept failed; backing off");
                });
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let watch = Watch::new(limits.header_timeout, limits.idle_timeout);
        let Some(slot) = open.admit(watch.clone(), &mut shed_warn) else {
            refuse(stream, peer);
            continue;
        };
        let service = ConnService {
            router: router.clone(),
            peer,
            budget: budget.clone(),
            watch: watch.clone(),
            body_timeout: limits.body_timeout,
        };
        let connection = connection(stream, watch, service, graceful.watcher());
        tokio::spawn(async move {
            connection.await;
            drop(slot);
        });
    }
    drop(listener);
    // Connections with no request in flight would only hold the shutdown up.
    open.shed_idle();
    graceful.shutdown().await;
}

/// Graceful shutdown of every connection: hyper-util's helper cannot watch connections
/// that may be upgraded (the live WebSocket), so this tells each to finish its request
/// in flight and waits until all have.
struct Graceful {
    signal: tokio::sync::watch::Sender<bool>,
    done_tx: tokio::sync::mpsc::Sender<()>,
    done_rx: tokio::sync::mpsc::Receiver<()>,
}

/// One connection's part: told when to finish, and dropped once it has.
struct Watcher {
    signal: tokio::sync::watch::Receiver<bool>,
    _done: tokio::sync::mpsc::Sender<()>,
}

impl Graceful {
    fn new() -> Graceful {
        let (done_tx, done_rx) = tokio::sync::mpsc::channel(1);
        Graceful {
            signal: tokio::sync::watch::channel(false).0,
            done_tx,
            done_rx,
        }
    }

    fn watcher(&self) -> Watcher {
        Watcher {
            signal: self.signal.subscribe(),
            _done: self.done_tx.clone(),
        }
    }

    /// Tells every connection to finish, and waits until each has.
    async fn shutdown(self) {
        let Graceful {
            signal,
            done_tx,
            mut done_rx,
        } = self;
        let _ = signal.send(true);
        drop(done_tx);
        let _ = done_rx.recv().await;
    }
}

/// Serves one connection until the client is done, it breaks, or its watch expires.
fn connection(
    stream: TcpStream,
    watch: Arc<Watch>,
    service: ConnService,
    graceful: Watcher,
) -> impl Future<Output = ()> + Send + 'static {
    let peer = service.peer;
    let io = TokioIo::new(Watched::new(stream, watch.clone()));
    let served = hyper::server::conn::http1::Builder::new()
        // The watch times headers and idle spells; hyper's own timer would cut idle
        // keep-alive connections at the header timeout.
        .header_read_timeout(None)
        .serve_connection(io, service)
        // The live WebSocket (`/api/v1/live`) takes the connection over; it is then
        // counted against `pageviews.max_live_connections`, not this listener's cap.
        .with_upgrades();
    async move {
        let Watcher { mut signal, _done } = graceful;
        tokio::pin!(served);
        let mut finishing = false;
        loop {
            tokio::select! {
                served = served.as_mut() => {
                    if let Err(error) = served {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                    return;
                }
                closed = watch.expired() => {
                    tracing::debug!(%peer, reason = closed.as_str(), "connection closed");
                    return;
                }
                _ = signal.changed(), if !finishing => {
                    finishing = true;
                    served.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Tells a connection refused at the cap why, without waiting for it, and closes it.
fn refuse(stream: TcpStream, peer: SocketAddr) {
    let _ = stream.try_write(REFUSAL);
    tracing::debug!(%peer, "connection refused: every connection is busy");
}

/// The open connections of one listener, oldest first, up to `limits.max_connections`.
struct Open {
    max: usize,
    next: AtomicU64,
    live: Mutex<BTreeMap<u64, Arc<Watch>>>,
}

/// A connection's place among the open ones, given back when it closes.
struct Slot {
    open: Arc<Open>,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut live = self
            .open
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        live.remove(&self.id);
    }
}

impl Open {
    fn new(max: usize) -> Open {
        Open {
            max,
            next: AtomicU64::new(0),
            live: Mutex::new(BTreeMap::new()),
        }
    }

    /// Makes room for a new connection: at the cap, the oldest connection that is idle
    /// or still sending headers is shed; `None` when every one is serving a request.
    fn admit(self: &Arc<Self>, watch: Arc<Watch>, warn: &mut Warn) -> Option<Slot> {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if live.len() >= self.max {
            warn.warn(|suppressed| {
                tracing::warn!(
                    max = self.max,
                    suppressed,
                    "connection cap reached; shedding"
                );
            });
            let victim = live
                .iter()
                .find(|(_, watch)| watch.sheddable())
                .map(|(id, _)| *id)?;
            if let Some(victim) = live.remove(&victim) {
                victim.shed();
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        live.insert(id, watch);
        Some(Slot {
            open: self.clone(),
            id,
        })
    }

    /// At shutdown: closes every connection that has no request in flight.
    fn shed_idle(&self) {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        for watch in live.values().filter(|watch| watch.sheddable()) {
            watch.shed();
        }
    }
}

/// Rate-limits a warning that hostile traffic could otherwise repeat thousands of times.
#[derive(Default)]
struct Warn {
    last: Option<Instant>,
    suppressed: u64,
}

impl Warn {
    fn warn(&mut self, log: impl FnOnce(u64)) {
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < WARN_EVERY) {
            self.suppressed += 1;
            return;
        }
        log(self.suppressed);
        self.last = Some(now);
        self.suppressed = 0;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_says_its_own_length() {
        let text = std::str::from_utf8(super::REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let declared: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(declared, body.len());
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], "busy");
    }
}
