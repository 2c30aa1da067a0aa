//! decides whether a hit comes from a person's browser or from a machine.
//! only views by people are counted; everything else gets a reason so it can
//! be reported as a dropped-hit metric instead of silently vanishing.

/// longest user agent we treat as plausible; anything longer is garbage.
const MAX_UA_BYTES: usize = 1024;

/// lowercase markers of automated or headless browsers, checked before the
/// general bot list. electron is deliberately absent: real apps embed it.
const AUTOMATED_MARKERS: [&str; 12] = [
    "headlesschrome",
    "phantomjs",
    "selenium",
    "webdriver",
    "puppeteer",
    "playwright",
    "slimerjs",
    "htmlunit",
    "lighthouse",
    "pagespeed",
    "ptst/",
    "cypress",
];

/// Why a hit is not counted as a person's view.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// the user agent was missing, empty or only whitespace.
    NoUserAgent,
    /// a headless or scripted browser (selenium, puppeteer, lighthouse, ...).
    AutomatedBrowser,
    /// a crawler, http library or otherwise known bot.
    Bot,
}

impl DropReason {
    /// every reason, in a stable order (handy for zero-filled metrics).
    pub const ALL: [DropReason; 3] = [
        DropReason::NoUserAgent,
        DropReason::AutomatedBrowser,
        DropReason::Bot,
    ];

    /// stable snake_case name used in apis and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::NoUserAgent => "no_user_agent",
            DropReason::AutomatedBrowser => "automated_browser",
            DropReason::Bot => "bot",
        }
    }
}

/// the shared filter; build once, since it holds the compiled isbot regex.
pub struct BotFilter {
    bots: isbot::Bots,
}

impl Default for BotFilter {
    fn default() -> Self {
        Self::new()
    }
}

impl BotFilter {
    /// compiles the default isbot pattern list.
    pub fn new() -> Self {
        Self {
            bots: isbot::Bots::default(),
        }
    }

    /// none means a person's browser (count it); some(reason) means drop it.
    pub fn classify(&self, user_agent: Option<&str>) -> Option<DropReason> {
        let ua = user_agent.map(str::trim).unwrap_or_default();
        if ua.is_empty() {
            return Some(DropReason::NoUserAgent);
        }
        if ua.len() > MAX_UA_BYTES {
            return Some(DropReason::Bot);
        }
        if is_automated(ua) {
            return Some(DropReason::AutomatedBrowser);
        }
        if self.bots.is_bot(ua) {
            return Some(DropReason::Bot);
        }
        None
    }
}

/// true when the user agent names a headless or scripted browser.
fn is_automated(ua: &str) -> bool {
    let lower = ua.to_ascii_lowercase();
    AUTOMATED_MARKERS.iter().any(|m| lower.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADLESS: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36";

    const BROWSERS: [&str; 6] = [
        // iphone safari
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
        // android chrome
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        // firefox on linux
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        // chrome on windows
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        // edge on windows
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
        // safari on macos
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    ];

    fn check(ua: Option<&str>, want: Option<DropReason>) {
        let filter = BotFilter::new();
        assert_eq!(filter.classify(ua), want, "user agent: {ua:?}");
    }

    #[test]
    fn real_browsers_are_counted() {
        let filter = BotFilter::new();
        for ua in BROWSERS {
            assert_eq!(filter.classify(Some(ua)), None, "user agent: {ua}");
        }
    }

    #[test]
    fn electron_apps_are_counted() {
        let ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.36.140 Chrome/120.0.6099.56 Electron/28.1.0 Safari/537.36";
        check(Some(ua), None);
    }

    #[test]
    fn missing_user_agents() {
        check(None, Some(DropReason::NoUserAgent));
        check(Some(""), Some(DropReason::NoUserAgent));
        check(Some("  \t\n "), Some(DropReason::NoUserAgent));
    }

    #[test]
    fn known_bots() {
        let bots = [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "curl/8.0",
            "python-requests/2.31.0",
            "Wget/1.21.4",
        ];
        for ua in bots {
            check(Some(ua), Some(DropReason::Bot));
        }
    }

    #[test]
    fn automated_browsers() {
        let automated = [
            HEADLESS,
            "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 PTST/240101.120000",
            "Mozilla/5.0 (Linux; Android 7.0; Moto G (4)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Cypress/13.6.0 Chrome/114.0.5735.289 Electron/25.8.4 Safari/537.36",
        ];
        for ua in automated {
            check(Some(ua), Some(DropReason::AutomatedBrowser));
        }
    }

    #[test]
    fn overlong_user_agent_is_garbage() {
        let ua = format!("{} {}", BROWSERS[0], "x".repeat(MAX_UA_BYTES));
        check(Some(&ua), Some(DropReason::Bot));
    }

    #[test]
    fn odd_input_does_not_panic() {
        let filter = BotFilter::default();
        for ua in ["\u{0}", "é日本語🦀", "((((", "[a-z", "\\"] {
            let _ = filter.classify(Some(ua));
        }
    }

    #[test]
    fn reason_names_are_stable() {
        let names: Vec<_> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names, ["no_user_agent", "automated_browser", "bot"]);
    }
}
