//! The one way a hit is counted, whichever door it came in by (beacon, Plausible event,
//! WebSocket view): its site must be registered and its origin allowed; bots are
//! dropped and counted by reason; the rest is made anonymous (path, referring host,
//! salted visitor hash) and acknowledged only once durably stored.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap};
use serde_json::Value;

use super::bots::DropReason;
use super::hit::{self, Drop, Hit, Via};
use super::referrer;
use super::sites::Site;
use crate::http::error::ApiError;
use crate::http::AppState;

/// What a client said about one hit, before any checking.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    /// The site's domain, as sent (`site`, Plausible's `d`).
    pub site: String,
    /// The page: a full URL or a path.
    pub page: Option<String>,
    /// `document.referrer`, or the previous page's URL.
    pub referrer: Option<String>,
    pub title: Option<String>,
    /// `pageview`, or a custom event's name.
    pub name: Option<String>,
    /// The client's own unique flag.
    pub unique: bool,
    /// The WebSocket's `articleId`.
    pub article: Option<String>,
    /// Whether the client says the visit came from another page of the site.
    pub internal: bool,
    /// Hash-based routing (Plausible's `h`): the fragment is part of the page.
    pub hash_routing: bool,
    pub props: Option<Value>,
}

/// Who sent a hit, as far as counting needs: never stored.
#[derive(Debug, Clone, Default)]
pub struct Sender {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// The `Origin` header, or the origin of the `Referer` header without one.
    pub origin: Option<String>,
    /// Whether the request carried an `Authorization` header (checked per site).
    pub headers: HeaderMap,
}

impl Sender {
    /// The sender of a request: its peer (or the configured proxy header), User-Agent
    /// and origin.
    pub fn of(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> Sender {
        let text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let proxy = &state.config.pageviews.client_ip_header;
        let forwarded = (!proxy.is_empty())
            .then(|| headers.get(proxy.as_str()))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
        let origin = text(header::ORIGIN)
            .filter(|o| o != "null")
            .or_else(|| text(header::REFERER).and_then(|r| super::sites::normalize_origin(&r)));
        let mut kept = HeaderMap::new();
        if let Some(auth) = headers.get(header::AUTHORIZATION) {
            kept.insert(header::AUTHORIZATION, auth.clone());
        }
        Sender {
            ip: forwarded.or(peer.map(|p| p.ip())),
            user_agent: text(header::USER_AGENT),
            origin,
            headers: kept,
        }
    }
}

/// The peer address axum's server put on the request.
pub fn peer(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0)
}

/// What became of a hit.
#[derive(Debug)]
pub enum Counted {
    Stored(Box<Hit>),
    Dropped(DropReason),
}

/// The site a hit names, if registered and the sender may send for it.
pub async fn site_for(state: &AppState, domain: &str, sender: &Sender) -> Result<Site, ApiError> {
    let site = state
        .pageviews
        .sites
        .get(state.store.as_ref(), domain)
        .await
        .map_err(|e| ApiError::StoreUnavailable(std::sync::Arc::new(e)))?
        .ok_or_else(|| ApiError::UnknownSite(hit::clip(domain, 253)))?;
    if site.token_in(&sender.headers) {
        return Ok(site);
    }
    match &sender.origin {
        Some(origin) if !site.allows_origin(origin) => Err(ApiError::OriginNotAllowed {
            site: site.domain.clone(),
            origin: hit::clip(origin, 253),
        }),
        _ => Ok(site),
    }
}

/// Counts one hit for `site`: drops a bot, or stores an anonymous view.
#[tracing::instrument(name = "pageview", skip_all, fields(site = %site.domain, via = via.as_str()))]
pub async fn count(
    state: &AppState,
    site: &Site,
    incoming: &Incoming,
    sender: &Sender,
    via: Via,
) -> Result<Counted, ApiError> {
    let now = chrono::Utc::now().timestamp_millis();
    let runtime = &state.pageviews;
    if let Some(limits) = &runtime.limits {
        limits.check(&site.domain, sender.ip)?;
    }
    if let Some(reason) = runtime.bots.classify(sender.user_agent.as_deref()) {
        let drop = Drop {
            site: site.domain.clone(),
            via,
            ts_ms: now,
            reason,
        };
        state.intake.submit_many(vec![drop.envelope()]).await?;
        state
            .metrics
            .delivery(super::SOURCE, reason.as_str(), "dropped");
        return Ok(Counted::Dropped(reason));
    }
    let keep = &state.config.pageviews.keep_query;
    let page = incoming
        .page
        .as_deref()
        .ok_or_else(|| ApiError::InvalidHit("no page: send `p` (a path) or `u` (a URL)".into()))?;
    let mut path = referrer::page_path(page, keep)
        .ok_or_else(|| ApiError::InvalidHit("the page is not a path or an http(s) URL".into()))?;
    if incoming.hash_routing {
        if let Some(fragment) = page
            .split_once('#')
            .map(|(_, f)| f)
            .filter(|f| !f.is_empty())
        {
            path = hit::clip(&format!("{path}#{fragment}"), 2048);
        }
    }
    let origin = referrer::classify(
        incoming.page.as_deref().filter(|p| !p.starts_with('/')),
        incoming.referrer.as_deref(),
        &site.domain,
    );
    let internal = incoming.internal
        || incoming
            .referrer
            .as_deref()
            .and_then(referrer::host_of)
            .is_some_and(|host| host == site.domain);
    let visitor = visitor(state, &site.domain, sender, now).await?;
    let hit = Hit {
        site: site.domain.clone(),
        via,
        ts_ms: now,
        name: hit::short(incoming.name.as_deref()).unwrap_or_else(|| "pageview".into()),
        article: hit::short(incoming.article.as_deref()).unwrap_or_else(|| path.clone()),
        path,
        title: hit::short(incoming.title.as_deref()),
        referrer: origin.referrer,
        source: origin.source,
        entry: !internal,
        unique: incoming.unique,
        visitor,
        props: incoming.props.clone(),
    };
    state.intake.submit_many(vec![hit.envelope()]).await?;
    state
        .metrics
        .delivery(super::SOURCE, hit.name_label(), "accepted");
    runtime.live.wake();
    Ok(Counted::Stored(Box::new(hit)))
}

/// The sender's visitor hash for today, or yesterday's while the visit it began
/// before midnight goes on.
async fn visitor(
    state: &AppState,
    site: &str,
    sender: &Sender,
    now: i64,
) -> Result<String, ApiError> {
    let unavailable = |e| ApiError::StoreUnavailable(std::sync::Arc::new(e));
    let runtime = &state.pageviews;
    let salts = runtime
        .salts
        .at(state.store.as_ref(), now)
        .await
        .map_err(unavailable)?;
    let ip = sender.ip.map(|ip| ip.to_string()).unwrap_or_default();
    let agent = sender.user_agent.as_deref().unwrap_or_default();
    if let (Some(previous), Some(reads)) = (&salts.previous, super::store::of(state.store.as_ref()))
    {
        let earlier = previous.visitor(site, &ip, agent);
        let since = now - runtime.salts.session_ms();
        if reads
            .visitor_seen(site, &earlier, since)
            .await
            .map_err(unavailable)?
        {
            return Ok(earlier);
        }
    }
    Ok(salts.today.visitor(site, &ip, agent))
}

impl Hit {
    /// The metric label of a stored hit: `pageview` or `event` (names are unbounded).
    fn name_label(&self) -> &'static str {
        if self.is_view() {
            "pageview"
        } else {
            "event"
        }
    }
}
