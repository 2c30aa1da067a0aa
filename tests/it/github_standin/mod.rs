//! An in-process stand-in for the part of GitHub's API Reckon uses, since GitHub cannot
//! be reached from the test machines. REST listings page with `Link` headers and answer
//! `If-None-Match` with 304s; every answer carries `X-RateLimit-*` headers from a real
//! budget that runs out and resets; a secondary limit (403 + `Retry-After`) can be
//! injected; GraphQL is parsed with a real GraphQL parser and resolved over the seeded
//! org (aliases, variables, `totalCount`, and GitHub's rule that listing nodes needs
//! `first`); the Deliveries API lists, and redelivers by POSTing the signed payload to
//! the hook's URL, as GitHub does.
// Handlers answer with a ready `Response` as their error, like axum handlers do.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use graphql_parser::query::{
    Definition, OperationDefinition, Selection, SelectionSet, Value as GqlValue,
};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub login: String,
}

#[derive(Debug, Clone)]
pub struct Repo {
    pub id: i64,
    pub name: String,
    pub private: bool,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct Team {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub members: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct Pr {
    pub id: i64,
    pub repo_id: i64,
    pub number: i64,
    pub title: String,
    /// "open" or "closed".
    pub state: String,
    pub merged_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub author: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Pr {
    fn graphql_state(&self) -> &'static str {
        match (self.state.as_str(), self.merged_at) {
            (_, Some(_)) => "MERGED",
            ("closed", None) => "CLOSED",
            _ => "OPEN",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub guid: String,
    pub event: String,
    pub payload: Vec<u8>,
    pub status_code: u16,
    pub delivered_at: i64,
    pub redelivery: bool,
}

#[derive(Debug, Clone)]
pub struct Hook {
    pub id: i64,
    /// `None`: an org hook; `Some(repo)`: a hook of that repo.
    pub repo: Option<String>,
    pub url: String,
    pub secret: String,
    /// Newest last.
    pub deliveries: Vec<Delivery>,
}

/// One logged request: what the counts and "only that repo" assertions read.
#[derive(Debug, Clone)]
pub struct Logged {
    // Logged whole, though no test reads these two yet.
    #[allow(dead_code)]
    pub method: Method,
    pub path: String,
    #[allow(dead_code)]
    pub query: String,
    pub status: u16,
}

pub struct World {
    pub org: String,
    pub org_id: i64,
    /// The GitHub App whose JWTs the App endpoints accept.
    pub app_id: u64,
    pub users: Vec<User>,
    pub members: Vec<i64>,
    pub repos: Vec<Repo>,
    pub teams: Vec<Team>,
    pub prs: Vec<Pr>,
    prs_by_repo: HashMap<i64, Vec<usize>>,
    pub hooks: Vec<Hook>,
    pub log: Vec<Logged>,
    /// Requests per rate-limit window, and its length in seconds.
    pub limit: u64,
    pub window_secs: u64,
    used: u64,
    window_start: u64,
    /// The next `n` requests get a secondary-limit 403 with `Retry-After: secs`.
    pub secondary: Option<(u32, u64)>,
    /// Paths containing this answer 500 (to test retryable failures).
    pub fail_paths: Vec<String>,
    /// Paths containing this answer 404, as GitHub does when a token lacks the scope.
    pub hidden_paths: Vec<String>,
    next_id: i64,
    next_delivery: i64,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A fixed base time, so seeded data is the same on every run.
pub const T0: i64 = 1_760_000_000_000;

impl World {
    pub fn new(org: &str) -> World {
        World {
            org: org.to_owned(),
            org_id: 9000,
            app_id: 4242,
            users: Vec::new(),
            members: Vec::new(),
            repos: Vec::new(),
            teams: Vec::new(),
            prs: Vec::new(),
            prs_by_repo: HashMap::new(),
            hooks: Vec::new(),
            log: Vec::new(),
            limit: 5000,
            window_secs: 3600,
            used: 0,
            window_start: now_secs(),
            secondary: None,
            fail_paths: Vec::new(),
            hidden_paths: Vec::new(),
            next_id: 100_000,
            next_delivery: 1,
        }
    }

    pub fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// An org with `repos` repos, `teams` teams of `per_team` members each (drawn from
    /// `members` org members) and `prs` PRs spread over the repos, a third each open,
    /// closed and merged.
    pub fn seed(
        org: &str,
        repos: usize,
        teams: usize,
        members: usize,
        per_team: usize,
        prs: usize,
    ) -> World {
        let mut w = World::new(org);
        for i in 0..members {
            let id = 10_000 + i as i64;
            w.users.push(User {
                id,
                login: format!("user{i}"),
            });
            w.members.push(id);
        }
        for i in 0..repos {
            let id = 20_000 + i as i64;
            w.repos.push(Repo {
                id,
                name: format!("repo{i:04}"),
                private: i % 5 == 0,
                updated_at: T0,
            });
        }
        for i in 0..teams {
            let members = (0..per_team.min(members))
                .map(|j| 10_000 + ((i * 7 + j) % members.max(1)) as i64)
                .collect();
            w.teams.push(Team {
                id: 30_000 + i as i64,
                slug: format!("team-{i}"),
                name: format!("Team {i}"),
                members,
            });
        }
        for i in 0..prs {
            let repo_id = 20_000 + (i % repos.max(1)) as i64;
            let created = T0 + i as i64 * 60_000;
            let (state, merged, closed) = match i % 3 {
                0 => ("open", None, None),
                1 => (
                    "closed",
                    Some(created + 3_600_000),
                    Some(created + 3_600_000),
                ),
                _ => ("closed", None, Some(created + 7_200_000)),
            };
            let author = 10_000 + (i % members.max(1)) as i64;
            w.add_pr(Pr {
                id: 40_000_000 + i as i64,
                repo_id,
                number: (i / repos.max(1)) as i64 + 1,
                title: format!("change {i}"),
                state: state.into(),
                merged_at: merged,
                closed_at: closed,
                author,
                created_at: created,
                updated_at: closed.unwrap_or(created),
            });
        }
        w
    }

    pub fn add_pr(&mut self, pr: Pr) {
        self.prs_by_repo
            .entry(pr.repo_id)
            .or_default()
            .push(self.prs.len());
        self.prs.push(pr);
    }

    /// Opens a PR in `repo` at `at` (Unix ms), authored by user `author`, and returns it.
    pub fn open_pr(&mut self, repo: &str, number: i64, title: &str, author: i64, at: i64) -> Pr {
        let pr = Pr {
            id: self.id(),
            repo_id: self.repo(repo).id,
            number,
            title: title.into(),
            state: "open".into(),
            merged_at: None,
            closed_at: None,
            author,
            created_at: at,
            updated_at: at,
        };
        self.add_pr(pr.clone());
        pr
    }

    pub fn repo(&self, name: &str) -> &Repo {
        self.repos
            .iter()
            .find(|r| r.name == name)
            .expect("seeded repo")
    }

    pub fn pr_mut(&mut self, id: i64) -> &mut Pr {
        self.prs.iter_mut().find(|p| p.id == id).expect("seeded PR")
    }

    fn user(&self, id: i64) -> Value {
        let login = self
            .users
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("ghost{id}"), |u| u.login.clone());
        json!({"login": login, "id": id, "type": "User"})
    }

    fn owner(&self) -> Value {
        json!({"login": self.org, "id": self.org_id, "type": "Organization"})
    }

    pub fn repo_json(&self, r: &Repo) -> Value {
        json!({
            "id": r.id, "name": r.name, "full_name": format!("{}/{}", self.org, r.name),
            "private": r.private, "archived": false, "owner": self.owner(),
            "updated_at": iso(r.updated_at),
        })
    }

    pub fn pr_json(&self, p: &Pr) -> Value {
        let repo = self
            .repos
            .iter()
            .find(|r| r.id == p.repo_id)
            .expect("PR of a seeded repo");
        json!({
            "id": p.id, "number": p.number, "title": p.title, "state": p.state, "draft": false,
            "user": self.user(p.author), "labels": [], "requested_reviewers": [],
            "created_at": iso(p.created_at), "updated_at": iso(p.updated_at),
            "closed_at": p.closed_at.map(iso), "merged_at": p.merged_at.map(iso),
            "base": {"ref": "main", "repo": self.repo_json(repo)},
        })
    }

    /// The payload GitHub would send for a `pull_request` event about `p`.
    pub fn pr_event(&self, p: &Pr, action: &str) -> Vec<u8> {
        let repo = self
            .repos
            .iter()
            .find(|r| r.id == p.repo_id)
            .expect("PR of a seeded repo");
        let mut pr = self.pr_json(p);
        pr["merged"] = json!(p.merged_at.is_some());
        serde_json::to_vec(&json!({
            "action": action, "number": p.number, "pull_request": pr,
            "repository": self.repo_json(repo),
            "organization": {"login": self.org, "id": self.org_id},
            "sender": self.user(p.author),
        }))
        .unwrap()
    }

    /// Records a delivery on `hook` without sending it (GitHub's side of a lost one).
    pub fn record_delivery(
        &mut self,
        hook: i64,
        event: &str,
        payload: Vec<u8>,
        status_code: u16,
    ) -> (i64, String) {
        let id = self.next_delivery;
        self.next_delivery += 1;
        let guid = format!("{:08x}-0000-4000-8000-{:012x}", id, id);
        let h = self
            .hooks
            .iter_mut()
            .find(|h| h.id == hook)
            .expect("seeded hook");
        h.deliveries.push(Delivery {
            id,
            guid: guid.clone(),
            event: event.into(),
            payload,
            status_code,
            delivered_at: chrono::Utc::now().timestamp_millis(),
            redelivery: false,
        });
        (id, guid)
    }

    pub fn count(&self, pred: impl Fn(&Logged) -> bool) -> usize {
        self.log.iter().filter(|l| pred(l)).count()
    }
}

#[derive(Clone)]
pub struct GithubStandin {
    pub url: String,
    pub world: Arc<Mutex<World>>,
}

impl GithubStandin {
    pub async fn start(world: World) -> GithubStandin {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Shared {
            world: Arc::new(Mutex::new(world)),
            base: url.clone(),
        };
        let world = state.world.clone();
        let app = Router::new().fallback(handle).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        GithubStandin { url, world }
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }

    /// Requests logged so far.
    #[allow(dead_code)] // Only benches/reconcile_cost.rs counts them.
    pub fn requests(&self) -> usize {
        self.world().log.len()
    }

    pub fn clear_log(&self) {
        self.world().log.clear();
    }

    /// Sends a delivery to the hook's URL, signed, and records it with Reckon's answer.
    pub async fn deliver(&self, hook: i64, event: &str, payload: Vec<u8>) -> u16 {
        let (url, secret) = {
            let w = self.world();
            let h = w.hooks.iter().find(|h| h.id == hook).expect("seeded hook");
            (h.url.clone(), h.secret.clone())
        };
        let (id, guid) = self
            .world()
            .record_delivery(hook, event, payload.clone(), 0);
        let status = post_signed(&url, &secret, hook, event, &guid, &payload).await;
        let mut w = self.world();
        let h = w.hooks.iter_mut().find(|h| h.id == hook).unwrap();
        h.deliveries
            .iter_mut()
            .find(|d| d.id == id)
            .unwrap()
            .status_code = status;
        status
    }
}

async fn post_signed(
    url: &str,
    secret: &str,
    hook: i64,
    event: &str,
    guid: &str,
    payload: &[u8],
) -> u16 {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    match reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", guid)
        .header("x-github-hook-id", hook.to_string())
        .header("x-hub-signature-256", signature)
        .body(payload.to_vec())
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

#[derive(Clone)]
struct Shared {
    world: Arc<Mutex<World>>,
    base: String,
}

fn reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn query_params(uri: &Uri) -> BTreeMap<String, String> {
    uri.query()
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .collect()
}

async fn handle(
    axum::extract::State(shared): axum::extract::State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (response, redeliver) = {
        let mut w = shared.world.lock().unwrap();
        let token = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("token "))
            .unwrap_or("");
        // A GitHub App's JWT (header.claims.signature) works only on the App endpoints;
        // everything else needs a personal or installation token.
        let jwt = token.matches('.').count() == 2;
        let app_endpoint = path.starts_with("/app/") || path.ends_with("/installation");
        let unauthorized = |message: &str| {
            (
                reply(StatusCode::UNAUTHORIZED, json!({ "message": message })),
                None,
            )
        };
        let answer = if token.is_empty() {
            unauthorized("Requires authentication")
        } else if app_endpoint != jwt {
            unauthorized("A JSON web token could not be decoded")
        } else if app_endpoint {
            (app_route(&mut w, &method, &path, token), None)
        } else {
            route(&mut w, &shared.base, &method, &uri, &headers, &body)
        };
        w.log.push(Logged {
            method: method.clone(),
            path: path.clone(),
            query: uri.query().unwrap_or("").to_owned(),
            status: answer.0.status().as_u16(),
        });
        answer
    };
    // A redelivery goes out before the 202, so a test sees its effect at once.
    if let Some((hook, delivery)) = redeliver {
        let (url, secret, d) = {
            let w = shared.world.lock().unwrap();
            let h = w.hooks.iter().find(|h| h.id == hook).unwrap();
            (
                h.url.clone(),
                h.secret.clone(),
                h.deliveries
                    .iter()
                    .find(|d| d.id == delivery)
                    .unwrap()
                    .clone(),
            )
        };
        let status = post_signed(&url, &secret, hook, &d.event, &d.guid, &d.payload).await;
        let mut w = shared.world.lock().unwrap();
        let id = w.next_delivery;
        w.next_delivery += 1;
        let h = w.hooks.iter_mut().find(|h| h.id == hook).unwrap();
        h.deliveries.push(Delivery {
            id,
            status_code: status,
            redelivery: true,
            delivered_at: chrono::Utc::now().timestamp_millis(),
            ..d
        });
    }
    response
}

/// The GitHub App endpoints: the org's installation, and minting its access token.
/// The JWT's claims must name the App (`iss`); its signature is not checked here.
fn app_route(w: &mut World, method: &Method, path: &str, jwt: &str) -> Response {
    use base64::Engine;
    let claims = jwt
        .split('.')
        .nth(1)
        .and_then(|c| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
        })
        .and_then(|c| serde_json::from_slice::<Value>(&c).ok())
        .unwrap_or_default();
    if claims["iss"] != json!(w.app_id.to_string()) && claims["iss"] != json!(w.app_id) {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"message": "'Issuer' claim ('iss') must be an Integer"}),
        );
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.clone(), parts.as_slice()) {
        (Method::GET, ["orgs", o, "installation"]) if o.eq_ignore_ascii_case(&w.org) => reply(
            StatusCode::OK,
            json!({"id": 77, "app_id": w.app_id, "target_type": "Organization", "account": {"login": w.org, "id": w.org_id}, "permissions": {}, "events": []}),
        ),
        (Method::POST, ["app", "installations", "77", "access_tokens"]) => {
            let expires = chrono::Utc::now() + chrono::Duration::hours(1);
            reply(
                StatusCode::CREATED,
                json!({"token": "ghs_installation_token", "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "permissions": {}}),
            )
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({"message": format!("Not Found: {method} {path}")}),
        ),
    }
}

/// Answers one request; the second value asks the caller to redeliver `(hook, delivery)`.
fn route(
    w: &mut World,
    base: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (Response, Option<(i64, i64)>) {
    let path = uri.path();
    let resource = if path == "/graphql" {
        "graphql"
    } else {
        "core"
    };
    if let Some((n, secs)) = w.secondary {
        w.secondary = if n > 1 { Some((n - 1, secs)) } else { None };
        let mut r = reply(
            StatusCode::FORBIDDEN,
            json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
        );
        r.headers_mut()
            .insert("retry-after", secs.to_string().parse().unwrap());
        return (r, None);
    }
    // The primary budget: a window of `limit` requests.
    let now = now_secs();
    if now >= w.window_start + w.window_secs {
        w.window_start = now;
        w.used = 0;
    }
    let reset = w.window_start + w.window_secs;
    let rate_headers = |r: &mut Response, used: u64, limit: u64| {
        let h = r.headers_mut();
        h.insert("x-ratelimit-limit", limit.to_string().parse().unwrap());
        h.insert(
            "x-ratelimit-remaining",
            limit.saturating_sub(used).to_string().parse().unwrap(),
        );
        h.insert("x-ratelimit-used", used.to_string().parse().unwrap());
        h.insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
        h.insert("x-ratelimit-resource", resource.parse().unwrap());
    };
    if w.used >= w.limit {
        let mut r = reply(
            StatusCode::FORBIDDEN,
            json!({"message": "API rate limit exceeded for user."}),
        );
        rate_headers(&mut r, w.used, w.limit);
        return (r, None);
    }
    if w.hidden_paths.iter().any(|p| path.contains(p.as_str())) {
        w.used += 1;
        let mut r = not_found();
        rate_headers(&mut r, w.used, w.limit);
        return (r, None);
    }
    if w.fail_paths.iter().any(|p| path.contains(p.as_str())) {
        w.used += 1;
        let mut r = reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": "Server Error"}),
        );
        rate_headers(&mut r, w.used, w.limit);
        return (r, None);
    }
    let (mut response, redeliver, link) = match (method.clone(), resource) {
        (Method::POST, "graphql") => (graphql(w, body), None, None),
        (Method::GET, _) => match rest_get(w, base, uri) {
            Ok((body, link)) => (reply(StatusCode::OK, body), None, link),
            Err(r) => (r, None, None),
        },
        (Method::POST, _) => rest_post(w, path),
        _ => (
            reply(StatusCode::NOT_FOUND, json!({"message": "Not Found"})),
            None,
            None,
        ),
    };
    if let Some(link) = link {
        response.headers_mut().insert("link", link.parse().unwrap());
    }
    // Conditional GETs: a matching ETag gets a 304 that costs no quota.
    if *method == Method::GET && response.status() == StatusCode::OK {
        let (parts, body) = response.into_parts();
        let bytes = futures_body(body);
        let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..16]));
        let matches =
            headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str());
        if matches {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            r.headers_mut().insert("etag", etag.parse().unwrap());
            rate_headers(&mut r, w.used, w.limit);
            return (r, None);
        }
        let mut r = Response::from_parts(parts, axum::body::Body::from(bytes));
        r.headers_mut().insert("etag", etag.parse().unwrap());
        w.used += 1;
        rate_headers(&mut r, w.used, w.limit);
        return (r, redeliver);
    }
    w.used += 1;
    rate_headers(&mut response, w.used, w.limit);
    (response, redeliver)
}

/// The bytes of a body built from a string (every body here is).
fn futures_body(body: axum::body::Body) -> Vec<u8> {
    use http_body_util::BodyExt;
    futures_lite_block(body.collect())
        .map(|c| c.to_bytes().to_vec())
        .unwrap_or_default()
}

fn futures_lite_block<F: std::future::Future>(f: F) -> F::Output {
    // Full bodies are ready at once; poll once with a no-op waker.
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("stand-in bodies are always ready"),
    }
}

fn not_found() -> Response {
    reply(
        StatusCode::NOT_FOUND,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
    )
}

/// `per_page` as GitHub reads it: 30 by default, at most 100.
fn per_page(q: &BTreeMap<String, String>) -> usize {
    q.get("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100)
}

/// Pages `items` by `page`/`per_page`, with GitHub's `Link` header.
fn paged(base: &str, uri: &Uri, items: Vec<Value>) -> (Value, Option<String>) {
    let q = query_params(uri);
    let per_page = per_page(&q);
    let page: usize = q
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let link_to = |p: usize| {
        let mut q = q.clone();
        q.insert("page".into(), p.to_string());
        q.insert("per_page".into(), per_page.to_string());
        format!(
            "{base}{}?{}",
            uri.path(),
            serde_urlencoded::to_string(&q).unwrap()
        )
    };
    let link = (page < last).then(|| {
        format!(
            "<{}>; rel=\"next\", <{}>; rel=\"last\"",
            link_to(page + 1),
            link_to(last)
        )
    });
    (Value::Array(slice), link)
}

fn rest_get(w: &mut World, base: &str, uri: &Uri) -> Result<(Value, Option<String>), Response> {
    let parts: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let org = w.org.clone();
    let org_ok = |o: &str| o.eq_ignore_ascii_case(&org);
    match parts.as_slice() {
        ["orgs", o, "repos"] if org_ok(o) => {
            let items = w.repos.iter().map(|r| w.repo_json(r)).collect();
            Ok(paged(base, uri, items))
        }
        ["orgs", o, "teams"] if org_ok(o) => {
            let items = w
                .teams
                .iter()
                .map(|t| json!({"id": t.id, "slug": t.slug, "name": t.name}))
                .collect();
            Ok(paged(base, uri, items))
        }
        ["orgs", o, "members"] if org_ok(o) => {
            let items = w.members.iter().map(|id| w.user(*id)).collect();
            Ok(paged(base, uri, items))
        }
        ["repositories", id] => {
            let id: i64 = id.parse().map_err(|_| not_found())?;
            let repo = w.repos.iter().find(|r| r.id == id).ok_or_else(not_found)?;
            Ok((w.repo_json(repo), None))
        }
        ["repos", o, name, "pulls"] if org_ok(o) => {
            let repo = w
                .repos
                .iter()
                .find(|r| r.name == *name)
                .ok_or_else(not_found)?
                .clone();
            let q = query_params(uri);
            if q.get("state").map(String::as_str) != Some("all")
                || q.get("sort").map(String::as_str) != Some("updated")
            {
                return Err(reply(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"message": "the stand-in serves state=all&sort=updated only"}),
                ));
            }
            let mut prs: Vec<&Pr> = w
                .prs_by_repo
                .get(&repo.id)
                .map(|ix| ix.iter().map(|i| &w.prs[*i]).collect())
                .unwrap_or_default();
            prs.sort_by_key(|p| std::cmp::Reverse((p.updated_at, p.id)));
            let items = prs.iter().map(|p| w.pr_json(p)).collect();
            Ok(paged(base, uri, items))
        }
        ["orgs", o, "hooks"] if org_ok(o) => Ok(paged(base, uri, hooks_of(w, None))),
        ["repos", o, name, "hooks"] if org_ok(o) => {
            if !w.repos.iter().any(|r| r.name == *name) {
                return Err(not_found());
            }
            Ok(paged(base, uri, hooks_of(w, Some(name))))
        }
        ["orgs", o, "hooks", id, "deliveries"] if org_ok(o) => deliveries(w, base, uri, id, None),
        ["repos", o, name, "hooks", id, "deliveries"] if org_ok(o) => {
            deliveries(w, base, uri, id, Some(name))
        }
        _ => Err(not_found()),
    }
}

fn hooks_of(w: &World, repo: Option<&str>) -> Vec<Value> {
    w.hooks
        .iter()
        .filter(|h| h.repo.as_deref() == repo)
        .map(|h| json!({"id": h.id, "active": true, "events": ["*"], "config": {"url": h.url, "content_type": "json"}}))
        .collect()
}

/// Newest first, paged by `cursor` (the id to continue below), as GitHub does.
fn deliveries(
    w: &World,
    base: &str,
    uri: &Uri,
    id: &str,
    repo: Option<&str>,
) -> Result<(Value, Option<String>), Response> {
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let hook = w
        .hooks
        .iter()
        .find(|h| h.id == id && h.repo.as_deref() == repo)
        .ok_or_else(not_found)?;
    let q = query_params(uri);
    let per_page = per_page(&q);
    let below: i64 = q
        .get("cursor")
        .and_then(|v| v.parse().ok())
        .unwrap_or(i64::MAX);
    let mut list: Vec<&Delivery> = hook.deliveries.iter().filter(|d| d.id < below).collect();
    list.sort_by_key(|d| std::cmp::Reverse(d.id));
    let more = list.len() > per_page;
    list.truncate(per_page);
    let items: Vec<Value> = list
        .iter()
        .map(|d| json!({
            "id": d.id, "guid": d.guid, "delivered_at": iso(d.delivered_at), "redelivery": d.redelivery,
            "duration": 0.1, "status": if (200..300).contains(&d.status_code) { "OK" } else { "failed" },
            "status_code": d.status_code, "event": d.event, "action": null,
        }))
        .collect();
    let link = match (more, list.last()) {
        (true, Some(last)) => Some(format!(
            "<{base}{}?per_page={per_page}&cursor={}>; rel=\"next\"",
            uri.path(),
            last.id
        )),
        _ => None,
    };
    Ok((Value::Array(items), link))
}

fn rest_post(w: &mut World, path: &str) -> (Response, Option<(i64, i64)>, Option<String>) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (hook, delivery) = match parts.as_slice() {
        ["orgs", _, "hooks", hook, "deliveries", d, "attempts"]
        | ["repos", _, _, "hooks", hook, "deliveries", d, "attempts"] => (
            hook.parse::<i64>().unwrap_or(-1),
            d.parse::<i64>().unwrap_or(-1),
        ),
        _ => return (not_found(), None, None),
    };
    let found = w
        .hooks
        .iter()
        .any(|h| h.id == hook && h.deliveries.iter().any(|d| d.id == delivery));
    if !found {
        return (not_found(), None, None);
    }
    (
        reply(StatusCode::ACCEPTED, json!({})),
        Some((hook, delivery)),
        None,
    )
}

// --- GraphQL -------------------------------------------------------------------------

type Field<'a> = graphql_parser::query::Field<'a, String>;

struct Gql<'w> {
    w: &'w World,
    vars: Map<String, Value>,
    errors: Vec<Value>,
}

#[derive(Clone, Copy)]
enum Node {
    Query,
    Org,
    Repo(usize),
    Team(usize),
    User(i64),
}

enum Conn {
    Repos(Vec<usize>),
    Teams(Vec<usize>),
    Users(Vec<i64>),
    Prs(usize),
}

fn graphql(w: &World, body: &[u8]) -> Response {
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"message": format!("Problems parsing JSON: {e}")}),
            )
        }
    };
    let Some(text) = req["query"].as_str() else {
        return reply(
            StatusCode::OK,
            json!({"errors": [{"message": "A query attribute must be specified"}]}),
        );
    };
    let doc = match graphql_parser::parse_query::<String>(text) {
        Ok(doc) => doc,
        Err(e) => {
            return reply(
                StatusCode::OK,
                json!({"errors": [{"message": format!("Parse error: {e}")}]}),
            )
        }
    };
    let selection = doc.definitions.iter().find_map(|d| match d {
        Definition::Operation(OperationDefinition::Query(q)) => Some(&q.selection_set),
        Definition::Operation(OperationDefinition::SelectionSet(s)) => Some(s),
        _ => None,
    });
    let Some(selection) = selection else {
        return reply(
            StatusCode::OK,
            json!({"errors": [{"message": "only queries are served"}]}),
        );
    };
    let mut g = Gql {
        w,
        vars: req["variables"].as_object().cloned().unwrap_or_default(),
        errors: Vec::new(),
    };
    let data = g.object(selection, Node::Query);
    let mut out = json!({"data": data});
    if !g.errors.is_empty() {
        out["errors"] = Value::Array(g.errors);
    }
    reply(StatusCode::OK, out)
}

impl Gql<'_> {
    fn arg(&self, f: &Field<'_>, name: &str) -> Value {
        f.arguments
            .iter()
            .find(|(n, _)| n == name)
            .map_or(Value::Null, |(_, v)| self.value(v))
    }

    fn value(&self, v: &GqlValue<'_, String>) -> Value {
        match v {
            GqlValue::Variable(name) => self.vars.get(name).cloned().unwrap_or(Value::Null),
            GqlValue::Int(n) => json!(n.as_i64()),
            GqlValue::Float(f) => json!(f),
            GqlValue::String(s) => json!(s),
            GqlValue::Boolean(b) => json!(b),
            GqlValue::Null => Value::Null,
            GqlValue::Enum(e) => json!(e),
            GqlValue::List(l) => Value::Array(l.iter().map(|v| self.value(v)).collect()),
            GqlValue::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), self.value(v))).collect())
            }
        }
    }

    fn object(&mut self, set: &SelectionSet<'_, String>, node: Node) -> Value {
        let mut out = Map::new();
        for item in &set.items {
            let Selection::Field(f) = item else {
                self.errors
                    .push(json!({"message": "fragments are not served by the stand-in"}));
                continue;
            };
            let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
            let v = self.field(f, node);
            out.insert(key, v);
        }
        Value::Object(out)
    }

    fn field(&mut self, f: &Field<'_>, node: Node) -> Value {
        let w = self.w;
        match (node, f.name.as_str()) {
            (Node::Query, "organization") => {
                if self
                    .arg(f, "login")
                    .as_str()
                    .is_some_and(|l| l.eq_ignore_ascii_case(&w.org))
                {
                    self.object(&f.selection_set, Node::Org)
                } else {
                    self.errors.push(json!({"type": "NOT_FOUND", "message": "Could not resolve to an Organization."}));
                    Value::Null
                }
            }
            (Node::Query, "repository") => {
                let name = self.arg(f, "name");
                match w
                    .repos
                    .iter()
                    .position(|r| Some(r.name.as_str()) == name.as_str())
                {
                    Some(i)
                        if self
                            .arg(f, "owner")
                            .as_str()
                            .is_some_and(|o| o.eq_ignore_ascii_case(&w.org)) =>
                    {
                        self.object(&f.selection_set, Node::Repo(i))
                    }
                    _ => {
                        self.errors.push(json!({"type": "NOT_FOUND", "message": format!("Could not resolve to a Repository with the name '{}'.", name)}));
                        Value::Null
                    }
                }
            }
            (Node::Org, "login") => json!(w.org),
            (Node::Org, "databaseId") => json!(w.org_id),
            (Node::Org, "repositories") => {
                let mut ix: Vec<usize> = (0..w.repos.len()).collect();
                ix.sort_by(|a, b| w.repos[*a].name.cmp(&w.repos[*b].name));
                self.connection(f, Conn::Repos(ix))
            }
            (Node::Org, "membersWithRole") => self.connection(f, Conn::Users(w.members.clone())),
            (Node::Org, "teams") => {
                let mut ix: Vec<usize> = (0..w.teams.len()).collect();
                ix.sort_by(|a, b| w.teams[*a].slug.cmp(&w.teams[*b].slug));
                self.connection(f, Conn::Teams(ix))
            }
            (Node::Org, "team") => match w
                .teams
                .iter()
                .position(|t| Some(t.slug.as_str()) == self.arg(f, "slug").as_str())
            {
                Some(i) => self.object(&f.selection_set, Node::Team(i)),
                None => Value::Null,
            },
            (Node::Repo(i), "databaseId") => json!(w.repos[i].id),
            (Node::Repo(i), "name") => json!(w.repos[i].name),
            (Node::Repo(i), "pullRequests") => self.connection(f, Conn::Prs(i)),
            (Node::Team(i), "databaseId") => json!(w.teams[i].id),
            (Node::Team(i), "slug") => json!(w.teams[i].slug),
            (Node::Team(i), "name") => json!(w.teams[i].name),
            (Node::Team(i), "members") => {
                let membership = self.arg(f, "membership");
                if membership != json!("IMMEDIATE") {
                    self.errors.push(json!({"message": "the stand-in serves team members with membership: IMMEDIATE only"}));
                    return Value::Null;
                }
                self.connection(f, Conn::Users(w.teams[i].members.clone()))
            }
            (Node::User(id), "databaseId") => json!(id),
            (Node::User(id), "login") => w.user(id)["login"].clone(),
            (_, name) => {
                self.errors.push(json!({"message": format!("Field '{name}' doesn't exist on this type in the stand-in")}));
                Value::Null
            }
        }
    }

    fn connection(&mut self, f: &Field<'_>, conn: Conn) -> Value {
        let w = self.w;
        let nodes: Vec<Node> = match conn {
            Conn::Repos(ix) => ix.into_iter().map(Node::Repo).collect(),
            Conn::Teams(ix) => ix.into_iter().map(Node::Team).collect(),
            Conn::Users(ids) => ids.into_iter().map(Node::User).collect(),
            Conn::Prs(i) => {
                let states: Vec<String> = match self.arg(f, "states") {
                    Value::String(s) => vec![s],
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
                let total = w
                    .prs_by_repo
                    .get(&w.repos[i].id)
                    .map(|ix| {
                        ix.iter()
                            .filter(|p| {
                                states.is_empty()
                                    || states.iter().any(|s| s == w.prs[**p].graphql_state())
                            })
                            .count()
                    })
                    .unwrap_or(0);
                // PR nodes are not served; Reckon asks for counts only.
                return self.counts_only(f, total);
            }
        };
        let first = self.arg(f, "first").as_i64();
        let after: usize = self
            .arg(f, "after")
            .as_str()
            .and_then(|c| c.strip_prefix("cursor:"))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let wants_nodes =
            f.selection_set.items.iter().any(
                |s| matches!(s, Selection::Field(x) if x.name == "nodes" || x.name == "edges"),
            );
        if wants_nodes && first.is_none() {
            self.errors.push(json!({"message": format!("You must provide a `first` or `last` value to properly paginate the `{}` connection.", f.name)}));
            return Value::Null;
        }
        if first.is_some_and(|n| !(1..=100).contains(&n)) {
            self.errors
                .push(json!({"message": "`first` must be between 1 and 100"}));
            return Value::Null;
        }
        let take = first.unwrap_or(0) as usize;
        let page: Vec<Node> = nodes.iter().copied().skip(after).take(take).collect();
        let end = after + page.len();
        let mut out = Map::new();
        for item in &f.selection_set.items {
            let Selection::Field(x) = item else { continue };
            let key = x.alias.clone().unwrap_or_else(|| x.name.clone());
            let v = match x.name.as_str() {
                "totalCount" => json!(nodes.len()),
                "nodes" => Value::Array(
                    page.iter()
                        .map(|n| self.object(&x.selection_set, *n))
                        .collect(),
                ),
                "pageInfo" => {
                    let info = json!({"hasNextPage": end < nodes.len(), "endCursor": if page.is_empty() { Value::Null } else { json!(format!("cursor:{end}")) }});
                    let mut o = Map::new();
                    for i in &x.selection_set.items {
                        if let Selection::Field(y) = i {
                            o.insert(
                                y.alias.clone().unwrap_or_else(|| y.name.clone()),
                                info[y.name.as_str()].clone(),
                            );
                        }
                    }
                    Value::Object(o)
                }
                other => {
                    self.errors.push(json!({"message": format!("Field '{other}' doesn't exist on a connection in the stand-in")}));
                    Value::Null
                }
            };
            out.insert(key, v);
        }
        Value::Object(out)
    }

    fn counts_only(&mut self, f: &Field<'_>, total: usize) -> Value {
        let mut out = Map::new();
        for item in &f.selection_set.items {
            let Selection::Field(x) = item else { continue };
            if x.name != "totalCount" {
                self.errors
                    .push(json!({"message": "the stand-in serves pull request counts only"}));
                return Value::Null;
            }
            out.insert(
                x.alias.clone().unwrap_or_else(|| x.name.clone()),
                json!(total),
            );
        }
        Value::Object(out)
    }
}
