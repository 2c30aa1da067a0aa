//! The per-connection service between hyper and the router: each request gets the
//! peer address (`ConnectInfo`) and the body budget as extensions, its body a deadline
//! (`limits.body_timeout_ms`), and the connection's watch learns when it starts and ends.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};
use tower_service::Service as _;

use super::watch::Watch;
use crate::http::body::BodyBudget;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error a body yields when it is not complete by its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the body did not arrive within {ms} ms")]
pub struct BodyTimedOut {
    pub ms: u64,
}

#[derive(Clone)]
pub struct ConnService {
    pub router: Router,
    pub peer: SocketAddr,
    pub budget: Arc<BodyBudget>,
    pub watch: Arc<Watch>,
    pub body_timeout: Duration,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.watch.request_started();
        let finished = Finished(self.watch.clone());
        let timeout = self.body_timeout;
        let mut request = request.map(|body| Body::new(TimedBody::new(body, timeout)));
        request.extensions_mut().insert(ConnectInfo(self.peer));
        request.extensions_mut().insert(self.budget.clone());
        let mut router = self.router.clone();
        Box::pin(async move {
            let response = router.call(request).await;
            drop(finished);
            response
        })
    }
}

/// Tells the watch a request is over, also when its connection is dropped mid-request.
struct Finished(Arc<Watch>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// A request body that fails with [`BodyTimedOut`] unless it ends by its deadline.
struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
}

impl TimedBody {
    fn new(inner: Incoming, timeout: Duration) -> TimedBody {
        TimedBody {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(Instant::now() + timeout)),
            timeout,
        }
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(BoxError::from)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            let ms = u64::try_from(this.timeout.as_millis()).unwrap_or(u64::MAX);
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut { ms }))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
