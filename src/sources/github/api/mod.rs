//! GitHub's part of the stats API under `/api/v1`: orgs, their repos and teams, pull
//! request series and totals, and the latest drift report. Handlers parse and shape;
//! stores compute.

pub mod drift;
pub mod orgs;
pub mod pulls;

use axum::routing::get;
use axum::Router;

use crate::access::{guard, Policy};
use crate::http::AppState;

pub fn routes() -> Router<AppState> {
    let org = Router::new()
        .route("/github/orgs/{org}/summary", get(orgs::summary))
        .route("/github/orgs/{org}/repos", get(orgs::repos))
        .route("/github/orgs/{org}/pulls/series", get(pulls::pr_series))
        .route("/github/orgs/{org}/pulls/stats", get(pulls::pr_stats))
        .route("/github/orgs/{org}/teams", get(orgs::teams))
        .route(
            "/github/orgs/{org}/teams/{team}/members",
            get(orgs::team_members),
        );
    Router::new()
        .merge(guard(
            Policy::Listed,
            Router::new().route("/github/orgs", get(orgs::orgs)),
        ))
        .merge(guard(Policy::GithubOrg, org))
        .merge(guard(
            Policy::GithubDrift,
            Router::new().route("/github/orgs/{org}/drift", get(drift::drift)),
        ))
}
