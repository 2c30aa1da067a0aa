//! Projections through the real server: scripted PR life cycles delivered in order and
//! shuffled must end in the same stored state, team membership must follow added and
//! removed events, and the stats must reflect both.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::{json, Value};

use crate::common::{fixture, TestApp};

const ORG: &str = "Octocoders";

/// A `pull_request` delivery for PR `number` of Octocoders/Hello-World, derived from
/// the real fixture so every other field stays realistic.
fn pr_event(action: &str, number: i64, author: (&str, i64), changes: Value) -> Value {
    let mut p = fixture("pull_request/opened.with-organization.payload.json");
    p["action"] = action.into();
    p["number"] = number.into();
    p["repository"]["owner"]["login"] = ORG.into();
    p["repository"]["owner"]["type"] = "Organization".into();
    p["repository"]["full_name"] = format!("{ORG}/Hello-World").into();
    let pr = &mut p["pull_request"];
    pr["id"] = (1000 + number).into();
    pr["number"] = number.into();
    pr["user"]["login"] = author.0.into();
    pr["user"]["id"] = author.1.into();
    pr["labels"] = json!([]);
    pr["requested_reviewers"] = json!([]);
    for (k, v) in changes.as_object().unwrap() {
        pr[k] = v.clone();
    }
    p
}

fn t(minutes: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z").unwrap();
    (base + chrono::Duration::minutes(minutes))
        .to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

const ALICE: (&str, i64) = ("alice", 501);
const BOB: (&str, i64) = ("bob", 502);

/// Three PRs: one merged after labels, reviews and pushes; one closed, reopened and
/// closed again; one left open as a draft.
fn life_cycles() -> Vec<(String, Value)> {
    let opened1 = json!({"state": "open", "created_at": t(0), "updated_at": t(0), "closed_at": null, "merged_at": null, "merged": false, "additions": 1, "deletions": 0});
    let mut events = vec![
        pr_event("opened", 1, ALICE, opened1.clone()),
        pr_event(
            "labeled",
            1,
            ALICE,
            merge(
                &opened1,
                json!({"updated_at": t(5), "labels": [{"name": "bug"}]}),
            ),
        ),
        pr_event(
            "review_requested",
            1,
            ALICE,
            merge(
                &opened1,
                json!({"updated_at": t(10), "labels": [{"name": "bug"}], "requested_reviewers": [{"login": "bob", "id": 502}]}),
            ),
        ),
        pr_event(
            "synchronize",
            1,
            ALICE,
            merge(
                &opened1,
                json!({"updated_at": t(20), "labels": [{"name": "bug"}], "requested_reviewers": [{"login": "bob", "id": 502}], "additions": 40, "deletions": 7}),
            ),
        ),
        pr_event(
            "closed",
            1,
            ALICE,
            merge(
                &opened1,
                json!({"state": "closed", "updated_at": t(90), "closed_at": t(90), "merged_at": t(90), "merged": true, "labels": [{"name": "bug"}], "requested_reviewers": [], "additions": 40, "deletions": 7}),
            ),
        ),
    ];
    let opened2 = json!({"state": "open", "created_at": t(30), "updated_at": t(30), "closed_at": null, "merged_at": null, "merged": false});
    events.extend([
        pr_event("opened", 2, BOB, opened2.clone()),
        pr_event(
            "closed",
            2,
            BOB,
            merge(
                &opened2,
                json!({"state": "closed", "updated_at": t(40), "closed_at": t(40)}),
            ),
        ),
        pr_event(
            "reopened",
            2,
            BOB,
            merge(&opened2, json!({"updated_at": t(50)})),
        ),
        pr_event(
            "closed",
            2,
            BOB,
            merge(
                &opened2,
                json!({"state": "closed", "updated_at": t(60), "closed_at": t(60)}),
            ),
        ),
    ]);
    let opened3 = json!({"state": "open", "created_at": t(70), "updated_at": t(70), "closed_at": null, "merged_at": null, "merged": false, "draft": false});
    events.extend([
        pr_event("opened", 3, BOB, opened3.clone()),
        pr_event(
            "converted_to_draft",
            3,
            BOB,
            merge(&opened3, json!({"updated_at": t(80), "draft": true})),
        ),
    ]);
    events
        .into_iter()
        .enumerate()
        .map(|(i, e)| (format!("lifecycle-{i}"), e))
        .collect()
}

fn merge(base: &Value, changes: Value) -> Value {
    let mut out = base.clone();
    for (k, v) in changes.as_object().unwrap() {
        out[k] = v.clone();
    }
    out
}

/// Every row of the projected pull_requests table, read from the real SQLite file.
fn pull_request_rows(app: &TestApp) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open_with_flags(
        app.data_dir.join("reckon.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = conn
        .prepare("SELECT * FROM pull_requests ORDER BY id")
        .unwrap();
    let columns = stmt.column_count();
    stmt.query_map([], |row| {
        (0..columns)
            .map(|i| {
                row.get::<_, rusqlite::types::Value>(i)
                    .map(|v| format!("{v:?}"))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

async fn deliver_all(app: &TestApp, events: &[(String, Value)]) {
    for (delivery, payload) in events {
        let response = app
            .github(
                "pull_request",
                delivery,
                &serde_json::to_vec(payload).unwrap(),
            )
            .await;
        assert_eq!(response.status(), 200);
    }
}

#[tokio::test]
async fn pr_life_cycles_end_the_same_in_any_order() {
    let events = life_cycles();
    let app = TestApp::spawn().await;
    deliver_all(&app, &events).await;
    let expected = pull_request_rows(&app);
    assert_eq!(expected.len(), 3);

    let summary = app.get_ok("/api/v1/github/orgs/octocoders/summary").await;
    assert_eq!(
        summary["pull_requests"],
        json!({"open": 1, "closed": 1, "merged": 1})
    );

    let mut orders = vec![events.iter().rev().cloned().collect::<Vec<_>>()];
    for seed in 0..5 {
        let mut shuffled = events.clone();
        shuffled.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        orders.push(shuffled);
    }
    for order in orders {
        let app = TestApp::spawn().await;
        deliver_all(&app, &order).await;
        assert_eq!(
            pull_request_rows(&app),
            expected,
            "order: {:?}",
            order.iter().map(|(d, _)| d).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn a_late_opened_never_reopens_a_closed_pr() {
    let app = TestApp::spawn().await;
    let events = life_cycles();
    // PR 1 closed (merged) first, then its opened arrives.
    deliver_all(&app, &[events[4].clone(), events[0].clone()]).await;
    let summary = app.get_ok("/api/v1/github/orgs/octocoders/summary").await;
    assert_eq!(
        summary["pull_requests"],
        json!({"open": 0, "closed": 0, "merged": 1})
    );
    let rows = pull_request_rows(&app);
    assert!(rows[0].iter().any(|v| v.contains("\"merged\"")), "{rows:?}");
}

fn membership(action: &str, user: (&str, i64)) -> Value {
    let mut p = fixture("membership/added.payload.json");
    p["action"] = action.into();
    p["member"]["login"] = user.0.into();
    p["member"]["id"] = user.1.into();
    p
}

fn org_membership(action: &str, user: (&str, i64)) -> Value {
    let mut p = fixture("organization/member_added.payload.json");
    p["action"] = action.into();
    p["membership"]["user"]["login"] = user.0.into();
    p["membership"]["user"]["id"] = user.1.into();
    p
}

async fn send(app: &TestApp, event: &str, delivery: &str, payload: &Value) {
    let response = app
        .github(event, delivery, &serde_json::to_vec(payload).unwrap())
        .await;
    assert_eq!(response.status(), 200, "{event} {delivery}");
}

#[tokio::test]
async fn team_membership_follows_added_and_removed() {
    let app = TestApp::spawn().await;
    send(
        &app,
        "team",
        "team-1",
        &fixture("team/created.payload.json"),
    )
    .await;
    send(&app, "membership", "m-1", &membership("added", ALICE)).await;
    send(&app, "membership", "m-2", &membership("added", BOB)).await;
    send(
        &app,
        "organization",
        "o-1",
        &org_membership("member_added", ("carol", 503)),
    )
    .await;

    let members = app
        .get_ok("/api/v1/github/orgs/octocoders/teams/github/members")
        .await;
    let logins: Vec<&str> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["alice", "bob"]);
    let summary = app.get_ok("/api/v1/github/orgs/octocoders/summary").await;
    assert_eq!(summary["teams"], 1);
    assert_eq!(summary["members"], 3);

    send(&app, "membership", "m-3", &membership("removed", ALICE)).await;
    send(
        &app,
        "organization",
        "o-2",
        &org_membership("member_removed", ("carol", 503)),
    )
    .await;
    let members = app
        .get_ok("/api/v1/github/orgs/octocoders/teams/github/members")
        .await;
    assert_eq!(
        members["members"],
        json!([{"login": "bob", "user_id": 502}])
    );
    let summary = app.get_ok("/api/v1/github/orgs/octocoders/summary").await;
    assert_eq!(
        summary["members"], 2,
        "alice is still an org member; carol left"
    );

    // PR stats by team follow current membership: bob's PRs count, alice's do not.
    deliver_all(&app, &life_cycles()).await;
    let series = app
        .get_ok("/api/v1/github/orgs/octocoders/pulls/series?interval=day&team=github&from=2026-03-02&to=2026-03-02")
        .await;
    assert_eq!(
        series["series"],
        json!([{"bucket": "2026-03-02", "opened": 2, "merged": 0, "closed": 1}])
    );
    let all = app
        .get_ok("/api/v1/github/orgs/octocoders/pulls/series?interval=day&from=2026-03-02&to=2026-03-02")
        .await;
    assert_eq!(
        all["series"],
        json!([{"bucket": "2026-03-02", "opened": 3, "merged": 1, "closed": 1}])
    );

    send(&app, "membership", "m-4", &membership("added", ALICE)).await;
    let teams = app
        .get_ok("/api/v1/github/orgs/octocoders/teams?from=2026-03-01&to=2026-03-31")
        .await;
    assert_eq!(
        teams["teams"],
        json!([{"team": "github", "name": "github", "members": 2, "opened": 3, "merged": 1, "median_time_to_merge_seconds": 5400.0}])
    );

    // A deleted team leaves the counts.
    send(
        &app,
        "membership",
        "m-5",
        &fixture("membership/removed.with-deleted-team.payload.json"),
    )
    .await;
    let summary = app.get_ok("/api/v1/github/orgs/octocoders/summary").await;
    assert_eq!(summary["teams"], 0);
}

#[tokio::test]
async fn org_renames_and_repo_transfers_carry_their_numbers() {
    let app = TestApp::spawn().await;
    deliver_all(&app, &life_cycles()).await;
    send(
        &app,
        "team",
        "rn-team",
        &fixture("team/created.payload.json"),
    )
    .await;
    let before = app.get_ok("/api/v1/github/orgs/octocoders/summary").await;
    assert_eq!(
        before["pull_requests"],
        json!({"open": 1, "closed": 1, "merged": 1})
    );

    let mut renamed = fixture("organization/renamed.payload.json");
    renamed["organization"]["login"] = "Octocats".into();
    renamed["changes"] = json!({"login": {"from": "Octocoders"}});
    send(&app, "organization", "rn-1", &renamed).await;
    let after = app.get_ok("/api/v1/github/orgs/octocats/summary").await;
    assert_eq!(after["org"], "Octocats");
    assert_eq!(after["pull_requests"], before["pull_requests"]);
    assert_eq!(
        (after["repos"].clone(), after["teams"].clone()),
        (before["repos"].clone(), before["teams"].clone())
    );
    assert_eq!(
        app.get("/api/v1/github/orgs/octocoders/summary").await.0,
        404
    );
    let by_repo = app
        .get_ok("/api/v1/github/orgs/octocats/pulls/series?interval=month&repo=Hello-World")
        .await;
    assert_eq!(
        by_repo["series"],
        json!([{"bucket": "2026-03-01", "opened": 3, "merged": 1, "closed": 1}])
    );

    // The repository moves to another owner: its PRs go with it.
    let mut transferred = fixture("repository/transferred.payload.json");
    transferred["repository"]["id"] =
        fixture("pull_request/opened.with-organization.payload.json")["repository"]["id"].clone();
    transferred["repository"]["name"] = "Hello-World".into();
    transferred["repository"]["full_name"] = "NewHome/Hello-World".into();
    transferred["repository"]["owner"]["login"] = "NewHome".into();
    transferred["repository"]["updated_at"] = "2026-04-01T00:00:00Z".into();
    transferred["organization"]["login"] = "NewHome".into();
    send(&app, "repository", "tr-1", &transferred).await;
    let moved = app.get_ok("/api/v1/github/orgs/newhome/summary").await;
    assert_eq!(moved["repos"], 1);
    assert_eq!(
        moved["pull_requests"],
        json!({"open": 1, "closed": 1, "merged": 1})
    );
    let left = app.get_ok("/api/v1/github/orgs/octocats/summary").await;
    assert_eq!(left["repos"], 0);
    assert_eq!(
        left["pull_requests"],
        json!({"open": 0, "closed": 0, "merged": 0})
    );
}
