//! Which logged requests are page views: GET requests for pages answered 2xx or 304.
//! Static assets (by extension), redirects, other methods, failures and bots are
//! skipped, each counted by its reason so an owner sees where the lines went.

use std::collections::BTreeSet;

use super::line::Record;
use crate::sources::pageviews::bots::{BotFilter, DropReason};

/// Extensions of static assets, which are not pages (GoAccess's static list, plus
/// today's font, image and module types).
pub const ASSET_EXTENSIONS: &[&str] = &[
    "7z", "avi", "avif", "bmp", "bz2", "class", "css", "csv", "doc", "docx", "eot", "exe", "flac",
    "flv", "gif", "gz", "ico", "jar", "jpeg", "jpg", "js", "json", "m4a", "map", "mid", "midi",
    "mjs", "mov", "mp3", "mp4", "mpeg", "mpg", "ogg", "otf", "pdf", "png", "ppt", "pptx", "rar",
    "svg", "svgz", "swf", "tar", "tgz", "tif", "tiff", "ttf", "txt", "wav", "webm", "webp", "woff",
    "woff2", "xls", "xlsx", "xml", "xz", "zip",
];

/// Why a read line is not a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    /// Not a GET (HEAD, POST, OPTIONS, ...).
    Method,
    /// A static asset, by its path's extension.
    Asset,
    /// A 3xx other than 304.
    Redirect,
    /// A 1xx, 4xx or 5xx.
    Status,
    /// The bot filter beacons use.
    Bot(DropReason),
    /// A vhost line for another site than the one imported.
    OtherSite,
}

impl Skip {
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::Method => "method",
            Skip::Asset => "asset",
            Skip::Redirect => "redirect",
            Skip::Status => "status",
            Skip::Bot(reason) => reason.as_str(),
            Skip::OtherSite => "other_site",
        }
    }
}

/// The counting rules, built once per import.
pub struct Rules {
    pub count_assets: bool,
    pub count_redirects: bool,
    /// Count what the bot filter drops (only to compare with tools that count crawlers).
    pub count_bots: bool,
    assets: BTreeSet<&'static str>,
    bots: BotFilter,
}

impl Rules {
    pub fn new(count_assets: bool, count_redirects: bool) -> Rules {
        Rules {
            count_assets,
            count_redirects,
            count_bots: false,
            assets: ASSET_EXTENSIONS.iter().copied().collect(),
            bots: BotFilter::new(),
        }
    }

    /// `Ok` for a view. `agents` is false for formats that log no User-Agent, where the
    /// bot filter has nothing to judge and every line would look like a script.
    pub fn judge(&self, record: &Record, agents: bool) -> Result<(), Skip> {
        if record.method != "GET" {
            return Err(Skip::Method);
        }
        match record.status {
            200..=299 | 304 => {}
            300..=399 if self.count_redirects => {}
            300..=399 => return Err(Skip::Redirect),
            _ => return Err(Skip::Status),
        }
        if !self.count_assets && self.is_asset(&record.target) {
            return Err(Skip::Asset);
        }
        if agents && !self.count_bots {
            if let Some(reason) = self.bots.classify(record.user_agent.as_deref()) {
                return Err(Skip::Bot(reason));
            }
        }
        Ok(())
    }

    fn is_asset(&self, target: &str) -> bool {
        let path = target.split(['?', '#']).next().unwrap_or_default();
        let last = path.rsplit('/').next().unwrap_or_default();
        last.rsplit_once('.')
            .is_some_and(|(_, ext)| self.assets.contains(ext.to_ascii_lowercase().as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(method: &str, target: &str, status: u16, agent: Option<&str>) -> Record {
        Record {
            address: None,
            ts_ms: 0,
            offset_s: 0,
            method: method.into(),
            target: target.into(),
            status,
            referrer: None,
            user_agent: agent.map(str::to_owned),
            host: None,
        }
    }

    const BROWSER: Option<&str> =
        Some("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");

    #[test]
    fn pages_answered_2xx_or_304_count() {
        let rules = Rules::new(false, false);
        assert_eq!(
            rules.judge(&record("GET", "/a", 200, BROWSER), true),
            Ok(())
        );
        assert_eq!(
            rules.judge(&record("GET", "/a", 304, BROWSER), true),
            Ok(())
        );
        assert_eq!(
            rules.judge(&record("GET", "/v1.2/", 200, BROWSER), true),
            Ok(())
        );
        assert_eq!(
            rules.judge(&record("HEAD", "/a", 200, BROWSER), true),
            Err(Skip::Method)
        );
        assert_eq!(
            rules.judge(&record("GET", "/a", 301, BROWSER), true),
            Err(Skip::Redirect)
        );
        assert_eq!(
            rules.judge(&record("GET", "/a", 404, BROWSER), true),
            Err(Skip::Status)
        );
        assert_eq!(
            rules.judge(&record("GET", "/s/app.CSS?v=3", 200, BROWSER), true),
            Err(Skip::Asset)
        );
    }

    #[test]
    fn bots_are_skipped_only_where_agents_are_logged() {
        let rules = Rules::new(false, false);
        let crawler = record(
            "GET",
            "/a",
            200,
            Some("Googlebot/2.1 (+http://www.google.com/bot.html)"),
        );
        assert_eq!(rules.judge(&crawler, true), Err(Skip::Bot(DropReason::Bot)));
        let none = record("GET", "/a", 200, None);
        assert_eq!(
            rules.judge(&none, true),
            Err(Skip::Bot(DropReason::NoUserAgent))
        );
        assert_eq!(rules.judge(&none, false), Ok(()));
    }

    #[test]
    fn assets_and_redirects_can_be_counted() {
        let rules = Rules::new(true, true);
        assert_eq!(
            rules.judge(&record("GET", "/a.png", 200, BROWSER), true),
            Ok(())
        );
        assert_eq!(
            rules.judge(&record("GET", "/a", 302, BROWSER), true),
            Ok(())
        );
    }
}
