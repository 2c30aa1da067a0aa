//! What one connection is doing, for its timeouts and for shedding: waiting for request
//! headers, serving a request, or idle between requests. The IO wrapper notices the first
//! byte of the next request; the watchdog closes the connection when a phase overstays.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// From accept, or from the first byte after an idle spell, until the headers are in.
    Headers,
    /// Requests in flight (their bodies keep their own deadline).
    Busy(usize),
    /// Between requests on a keep-alive connection.
    Idle,
}

struct State {
    phase: Phase,
    deadline: Option<Instant>,
    shed: bool,
}

/// Why the watchdog closed a connection.
#[derive(Debug, Clone, Copy)]
pub enum Closed {
    HeaderTimeout,
    IdleTimeout,
    /// Made room for a newer connection at `limits.max_connections`.
    Shed,
}

impl Closed {
    pub fn as_str(self) -> &'static str {
        match self {
            Closed::HeaderTimeout => "header_timeout",
            Closed::IdleTimeout => "idle_timeout",
            Closed::Shed => "shed",
        }
    }
}

pub struct Watch {
    state: Mutex<State>,
    changed: Notify,
    header_timeout: Duration,
    idle_timeout: Duration,
}

impl Watch {
    /// A new connection: its headers are due within `header_timeout`.
    pub fn new(header_timeout: Duration, idle_timeout: Duration) -> Arc<Watch> {
        Arc::new(Watch {
            state: Mutex::new(State {
                phase: Phase::Headers,
                deadline: Some(Instant::now() + header_timeout),
                shed: false,
            }),
            changed: Notify::new(),
            header_timeout,
            idle_timeout,
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bytes_read(&self) {
        let mut state = self.state();
        if state.phase == Phase::Idle {
            state.phase = Phase::Headers;
            state.deadline = Some(Instant::now() + self.header_timeout);
            self.changed.notify_one();
        }
    }

    pub fn request_started(&self) {
        let mut state = self.state();
        state.phase = match state.phase {
            Phase::Busy(n) => Phase::Busy(n + 1),
            _ => Phase::Busy(1),
        };
        state.deadline = None;
    }

    pub fn request_finished(&self) {
        let mut state = self.state();
        state.phase = match state.phase {
            Phase::Busy(n) if n > 1 => Phase::Busy(n - 1),
            _ => {
                state.deadline = Some(Instant::now() + self.idle_timeout);
                Phase::Idle
            }
        };
        self.changed.notify_one();
    }

    /// Idle or still sending headers: no request would be lost by closing it.
    pub fn sheddable(&self) -> bool {
        !matches!(self.state().phase, Phase::Busy(_))
    }

    pub fn shed(&self) {
        self.state().shed = true;
        self.changed.notify_one();
    }

    /// Resolves when the connection must be closed; never while a request is served.
    pub async fn expired(&self) -> Closed {
        loop {
            let changed = self.changed.notified();
            let deadline = {
                let state = self.state();
                if state.shed {
                    return Closed::Shed;
                }
                match (state.deadline, state.phase) {
                    (Some(at), Phase::Idle) if at <= Instant::now() => return Closed::IdleTimeout,
                    (Some(at), _) if at <= Instant::now() => return Closed::HeaderTimeout,
                    (deadline, _) => deadline,
                }
            };
            match deadline {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// The connection's socket, reporting reads to its [`Watch`].
pub struct Watched<T> {
    inner: T,
    watch: Arc<Watch>,
}

impl<T> Watched<T> {
    pub fn new(inner: T, watch: Arc<Watch>) -> Watched<T> {
        Watched { inner, watch }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.watch.bytes_read();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
