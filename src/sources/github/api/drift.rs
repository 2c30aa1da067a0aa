//! The drift report of an org's last reconcile, with the queue and scheduler state of
//! this process: what the dashboard's drift panel and operators read.

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::AppState;
use crate::queue::QueueCounts;
use crate::sources::github::reconcile::report::DriftReport;

#[derive(Serialize, ToSchema)]
pub struct QueueState {
    pub ready: u64,
    pub leased: u64,
    pub done: u64,
    pub dead: u64,
}

impl From<QueueCounts> for QueueState {
    fn from(c: QueueCounts) -> Self {
        QueueState {
            ready: c.ready,
            leased: c.leased,
            done: c.done,
            dead: c.dead,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DriftAnswer {
    #[serde(flatten)]
    report: DriftReport,
    /// Sync tasks by state, when this process runs the worker or scheduler.
    queue: Option<QueueState>,
    /// Whether this process holds the scheduler lock, and when it last fired.
    scheduler: Option<SchedulerState>,
}

#[derive(Serialize, ToSchema)]
pub struct SchedulerState {
    schedules: Vec<String>,
    last_fired_at: Option<String>,
    leader: bool,
    runs: u64,
    failures: u64,
}

/// The last reconcile of an org: per check GitHub's number, Reckon's, and the drift
/// (`github - reckon`), with the run's status, planned tasks, delivery scan and cost.
#[utoipa::path(get, path = "/api/v1/github/orgs/{org}/drift", tag = "github",
    params(("org" = String, Path, description = "org login, any case")),
    responses((status = 200, body = DriftAnswer), (status = 404, body = ErrorBody)))]
pub async fn drift(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> Result<Json<DriftAnswer>, ApiError> {
    let report = crate::sources::github::reconcile::last_report(state.store.as_ref(), &org)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no reconcile has run for org `{org}` yet: add it to github.orgs or run `reckon reconcile --org {org}`"
            ))
        })?;
    let queue = match &state.queue {
        Some(queue) => queue.counts().await.ok().map(QueueState::from),
        None => None,
    };
    let scheduler = state.scheduler.as_ref().map(|s| {
        let s = s.lock().unwrap_or_else(|p| p.into_inner()).clone();
        SchedulerState {
            schedules: s.schedules,
            last_fired_at: s.last_fired_at,
            leader: s.leader,
            runs: s.runs,
            failures: s.failures,
        }
    });
    Ok(Json(DriftAnswer {
        report,
        queue,
        scheduler,
    }))
}
