//! turns what a beacon says about a view (page url, document.referrer) into
//! privacy-safe, groupable dimensions: a referring host, a named source and a
//! page path stripped of fragments and of query parameters nobody asked for.

use url::{form_urlencoded, ParseError, Url};

/// longest page path we store, in bytes.
const MAX_PATH_BYTES: usize = 2048;

/// longest tagged source (utm_source and friends) we store, in chars.
const MAX_SOURCE_CHARS: usize = 100;

/// page-url parameters that name a source, in order of preference.
const SOURCE_PARAMS: [&str; 3] = ["utm_source", "ref", "source"];

/// a base used only to resolve bare paths; its host never leaks out.
const PATH_BASE: &str = "http://path.invalid/";

/// how a known source is recognised from a referring host.
enum Rule {
    /// the host is this domain or a subdomain of it.
    Suffix(&'static str),
    /// the host is `brand.<tld>`, `brand.co.<tld>` or `brand.com.<tld>`, or a subdomain.
    Brand(&'static str),
}

/// known search engines and social sites, checked in order.
const KNOWN_SOURCES: &[(Rule, &str)] = &[
    (Rule::Brand("google"), "Google"),
    (Rule::Suffix("bing.com"), "Bing"),
    (Rule::Suffix("duckduckgo.com"), "DuckDuckGo"),
    (Rule::Brand("yahoo"), "Yahoo"),
    (Rule::Brand("yandex"), "Yandex"),
    (Rule::Suffix("ya.ru"), "Yandex"),
    (Rule::Suffix("baidu.com"), "Baidu"),
    (Rule::Suffix("ecosia.org"), "Ecosia"),
    (Rule::Suffix("search.brave.com"), "Brave"),
    (Rule::Suffix("startpage.com"), "Startpage"),
    (Rule::Suffix("qwant.com"), "Qwant"),
    (Rule::Suffix("kagi.com"), "Kagi"),
    (Rule::Suffix("facebook.com"), "Facebook"),
    (Rule::Suffix("fb.com"), "Facebook"),
    (Rule::Suffix("twitter.com"), "Twitter"),
    (Rule::Suffix("x.com"), "Twitter"),
    (Rule::Suffix("t.co"), "Twitter"),
    (Rule::Suffix("linkedin.com"), "LinkedIn"),
    (Rule::Suffix("lnkd.in"), "LinkedIn"),
    (Rule::Suffix("reddit.com"), "Reddit"),
    (Rule::Suffix("news.ycombinator.com"), "Hacker News"),
    (Rule::Suffix("lobste.rs"), "Lobsters"),
    (Rule::Suffix("youtube.com"), "YouTube"),
    (Rule::Suffix("youtu.be"), "YouTube"),
    (Rule::Suffix("instagram.com"), "Instagram"),
    (Rule::Brand("pinterest"), "Pinterest"),
    (Rule::Suffix("github.com"), "GitHub"),
    (Rule::Suffix("bsky.app"), "Bluesky"),
    (Rule::Suffix("threads.net"), "Threads"),
];

/// Where a view came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// the referring host, lowercased, without a leading "www." and without
    /// port; none when direct, empty, same-site or unparseable.
    pub referrer: Option<String>,
    /// a known search engine or social site, or the utm_source / ref / source
    /// value from the page url (which wins); none otherwise.
    pub source: Option<String>,
}

/// works out where a view came from.
///
/// `page_url` is the viewed page's full url if known (read for utm_source,
/// ref and source); `referrer` is document.referrer (a full url, a bare host,
/// or empty); `site_host` is the site's own domain, whose hits are internal.
pub fn classify(page_url: Option<&str>, referrer: Option<&str>, site_host: &str) -> Origin {
    let site = normalize_site(site_host);
    let referrer = referrer
        .and_then(referrer_host)
        .filter(|host| site.as_deref() != Some(host.as_str()));
    let known = referrer.as_deref().and_then(known_source).map(String::from);
    let tagged = page_url.and_then(tagged_source);
    Origin {
        referrer,
        source: tagged.or(known),
    }
}

/// the page path to count, or none when the input is not a path or http(s) url.
///
/// drops the fragment and every query parameter whose name is not in `keep`,
/// collapses an empty path to "/" and caps the result at 2048 bytes.
pub fn page_path(url_or_path: &str, keep: &[String]) -> Option<String> {
    let url = parse_page(url_or_path)?;
    let mut path = url.path().to_string();
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    if let Some(query) = kept_query(&url, keep) {
        path.push('?');
        path.push_str(&query);
    }
    truncate_path(&mut path, MAX_PATH_BYTES);
    Some(path)
}

/// the host of an http(s) url, lowercased, without port and leading "www.".
pub fn host_of(url: &str) -> Option<String> {
    let url = Url::parse(url.trim()).ok()?;
    if !is_http(&url) {
        return None;
    }
    url.host_str().and_then(normalize_host)
}

/// true for the two schemes we count.
fn is_http(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

/// lowercases a host and strips a trailing dot and a leading "www.".
fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.').to_lowercase();
    let host = host.strip_prefix("www.").map(String::from).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// the site's own host in the same shape as a referrer host.
fn normalize_site(site_host: &str) -> Option<String> {
    let site = site_host.trim();
    if site.is_empty() {
        return None;
    }
    referrer_host(site).or_else(|| normalize_host(site))
}

/// the host of a referrer given as a full url (any scheme with a host) or a bare host.
fn referrer_host(referrer: &str) -> Option<String> {
    let referrer = referrer.trim();
    if referrer.is_empty() {
        return None;
    }
    let url = parse_loose(referrer)?;
    url.host_str().and_then(normalize_host)
}

/// parses a referrer, guessing https for bare hosts; rejects hostless schemes.
fn parse_loose(input: &str) -> Option<Url> {
    if input.contains("://") {
        return Url::parse(input).ok();
    }
    if input.starts_with("//") {
        return Url::parse(&format!("https:{input}")).ok();
    }
    if has_scheme(input) {
        return None;
    }
    let url = Url::parse(&format!("https://{input}")).ok()?;
    // a bare word like "null" or "foo" is not a host anyone links from.
    url.host_str().filter(|h| h.contains('.'))?;
    Some(url)
}

/// true when the input opens with `scheme:` (as in "javascript:" or "mailto:")
/// rather than `host:port`.
fn has_scheme(input: &str) -> bool {
    let Some((scheme, rest)) = input.split_once(':') else {
        return false;
    };
    let scheme_like = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let looks_like_port = rest.starts_with(|c: char| c.is_ascii_digit());
    scheme_like && !looks_like_port
}

/// the display name of a known search engine or social site.
fn known_source(host: &str) -> Option<&'static str> {
    KNOWN_SOURCES
        .iter()
        .find(|(rule, _)| rule_matches(rule, host))
        .map(|(_, name)| *name)
}

/// applies one recognition rule to a normalized host.
fn rule_matches(rule: &Rule, host: &str) -> bool {
    match rule {
        Rule::Suffix(domain) => is_same_or_subdomain(host, domain),
        Rule::Brand(brand) => is_brand_host(host, brand),
    }
}

/// true when `host` is `domain` or ends with `.domain`.
fn is_same_or_subdomain(host: &str, domain: &str) -> bool {
    host.strip_suffix(domain)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
}

/// true when some label equals `brand` and is followed by `<tld>`,
/// `co.<tld>` or `com.<tld>` only.
fn is_brand_host(host: &str, brand: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let Some(at) = labels.iter().position(|l| *l == brand) else {
        return false;
    };
    match labels.get(at + 1..).unwrap_or_default() {
        [tld] => !tld.is_empty(),
        [second, tld] => matches!(*second, "co" | "com") && !tld.is_empty(),
        _ => false,
    }
}

/// the first non-empty utm_source, ref or source on the page url.
fn tagged_source(page_url: &str) -> Option<String> {
    let url = parse_page(page_url)?;
    SOURCE_PARAMS
        .iter()
        .find_map(|name| query_value(&url, name))
        .map(|value| value.chars().take(MAX_SOURCE_CHARS).collect())
}

/// the first non-blank value of a query parameter, trimmed.
fn query_value(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.trim().to_string())
        .find(|value| !value.is_empty())
}

/// parses an http(s) url or a bare path; anything with another scheme is none.
fn parse_page(input: &str) -> Option<Url> {
    let input = input.trim();
    if input.is_empty() {
        return None;
    }
    match Url::parse(input) {
        Ok(url) => is_http(&url).then_some(url),
        Err(ParseError::RelativeUrlWithoutBase) => parse_bare_path(input),
        Err(_) => None,
    }
}

/// resolves a bare path ("/a/b?x=1", "a/b") against a throwaway base.
fn parse_bare_path(path: &str) -> Option<Url> {
    let base = Url::parse(PATH_BASE).ok()?;
    let rooted = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    base.join(&rooted).ok()
}

/// the query string re-encoded with only the kept parameters, in original order.
fn kept_query(url: &Url, keep: &[String]) -> Option<String> {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (key, value) in url.query_pairs() {
        if keep.iter().any(|k| *k == key) {
            serializer.append_pair(&key, &value);
            any = true;
        }
    }
    any.then(|| serializer.finish())
}

/// cuts a path to at most `max` bytes at a char boundary, without leaving a
/// half percent-escape ("%c" or "%") at the end.
fn truncate_path(path: &mut String, max: usize) {
    if path.len() <= max {
        return;
    }
    let mut end = max;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    let tail = path.get(end.saturating_sub(2)..end).unwrap_or_default();
    if let Some(pos) = tail.rfind('%') {
        end = end.saturating_sub(2) + pos;
    }
    path.truncate(end);
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = "example.com";

    /// (page url, referrer, expected referrer, expected source)
    type OriginCase = (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );

    const ORIGIN_CASES: &[OriginCase] = &[
        (
            None,
            Some("https://www.google.co.uk/search?q=reckon"),
            Some("google.co.uk"),
            Some("Google"),
        ),
        (
            None,
            Some("https://www.google.com/"),
            Some("google.com"),
            Some("Google"),
        ),
        (
            None,
            Some("https://google.de/"),
            Some("google.de"),
            Some("Google"),
        ),
        (
            None,
            Some("https://www.google.com.au/url?q=x"),
            Some("google.com.au"),
            Some("Google"),
        ),
        (
            None,
            Some("https://google.evil.com/"),
            Some("google.evil.com"),
            None,
        ),
        (
            None,
            Some("https://www.bing.com/search?q=x"),
            Some("bing.com"),
            Some("Bing"),
        ),
        (
            None,
            Some("https://duckduckgo.com/"),
            Some("duckduckgo.com"),
            Some("DuckDuckGo"),
        ),
        (
            None,
            Some("https://search.yahoo.co.jp/"),
            Some("search.yahoo.co.jp"),
            Some("Yahoo"),
        ),
        (
            None,
            Some("https://yandex.ru/search/"),
            Some("yandex.ru"),
            Some("Yandex"),
        ),
        (
            None,
            Some("https://search.brave.com/search?q=x"),
            Some("search.brave.com"),
            Some("Brave"),
        ),
        (
            None,
            Some("https://t.co/abc123"),
            Some("t.co"),
            Some("Twitter"),
        ),
        (
            None,
            Some("https://x.com/someone/status/1"),
            Some("x.com"),
            Some("Twitter"),
        ),
        (None, Some("https://box.com/"), Some("box.com"), None),
        (
            None,
            Some("https://l.facebook.com/l.php?u=x"),
            Some("l.facebook.com"),
            Some("Facebook"),
        ),
        (
            None,
            Some("https://lm.facebook.com/"),
            Some("lm.facebook.com"),
            Some("Facebook"),
        ),
        (
            None,
            Some("https://news.ycombinator.com/item?id=1"),
            Some("news.ycombinator.com"),
            Some("Hacker News"),
        ),
        (
            None,
            Some("news.ycombinator.com"),
            Some("news.ycombinator.com"),
            Some("Hacker News"),
        ),
        (
            None,
            Some("lobste.rs/s/abc"),
            Some("lobste.rs"),
            Some("Lobsters"),
        ),
        (
            None,
            Some("https://bsky.app/profile/x"),
            Some("bsky.app"),
            Some("Bluesky"),
        ),
        (
            None,
            Some("https://WWW.Some-Blog.org:8443/post"),
            Some("some-blog.org"),
            None,
        ),
        (None, Some("https://example.com/other"), None, None),
        (None, Some("https://www.example.com/other"), None, None),
        (None, Some("http://example.com:8080/"), None, None),
        (
            None,
            Some("https://blog.example.com/"),
            Some("blog.example.com"),
            None,
        ),
        (None, Some(""), None, None),
        (None, Some("   "), None, None),
        (None, None, None, None),
        (None, Some("::::"), None, None),
        (None, Some("javascript:alert(1)"), None, None),
        (None, Some("null"), None, None),
        (
            None,
            Some("android-app://com.google.android.gm/"),
            Some("com.google.android.gm"),
            None,
        ),
        (
            Some("https://example.com/?utm_source=Newsletter"),
            Some("https://www.google.com/"),
            Some("google.com"),
            Some("Newsletter"),
        ),
        (
            Some("https://example.com/?ref=ProductHunt"),
            None,
            None,
            Some("ProductHunt"),
        ),
        (
            Some("https://example.com/?source=%20mastodon%20"),
            None,
            None,
            Some("mastodon"),
        ),
        (
            Some("https://example.com/?source=a&ref=b&utm_source=c"),
            None,
            None,
            Some("c"),
        ),
        (
            Some("https://example.com/?utm_source=&ref=b"),
            None,
            None,
            Some("b"),
        ),
        (
            Some("https://example.com/?utm_source=mail"),
            Some("https://example.com/x"),
            None,
            Some("mail"),
        ),
        (Some("/pricing?ref=hn"), None, None, Some("hn")),
        (
            Some("https://example.com/?q=1"),
            Some("https://github.com/a/b"),
            Some("github.com"),
            Some("GitHub"),
        ),
    ];

    #[test]
    fn classify_table() {
        for (page, referrer, want_ref, want_source) in ORIGIN_CASES {
            let got = classify(*page, *referrer, SITE);
            let want = Origin {
                referrer: want_ref.map(String::from),
                source: want_source.map(String::from),
            };
            assert_eq!(got, want, "page {page:?}, referrer {referrer:?}");
        }
    }

    #[test]
    fn site_host_given_with_www_still_matches() {
        let got = classify(None, Some("https://example.com/"), "www.Example.com");
        assert_eq!(got, Origin::default());
    }

    #[test]
    fn tagged_source_is_capped() {
        let page = format!("https://example.com/?utm_source={}", "é".repeat(150));
        let got = classify(Some(&page), None, SITE);
        assert_eq!(
            got.source.map(|s| s.chars().count()),
            Some(MAX_SOURCE_CHARS)
        );
    }

    /// (input, keep list, expected path)
    const PATH_CASES: &[(&str, &[&str], Option<&str>)] = &[
        ("https://example.com/a/b?x=1#frag", &[], Some("/a/b")),
        ("https://example.com", &[], Some("/")),
        ("https://example.com/?utm_source=x", &[], Some("/")),
        ("/a/b?x=1#f", &[], Some("/a/b")),
        ("/docs#install", &[], Some("/docs")),
        ("a/b", &[], Some("/a/b")),
        ("?x=1", &[], Some("/")),
        ("/blog?page=2&utm_source=x", &["page"], Some("/blog?page=2")),
        ("/blog?utm_source=x&page=2", &["page"], Some("/blog?page=2")),
        (
            "/s?q=a+b&lang=en&x=1",
            &["lang", "q"],
            Some("/s?q=a+b&lang=en"),
        ),
        ("/s?q=a%20b", &["q"], Some("/s?q=a+b")),
        ("/s?other=1", &["page"], Some("/s")),
        ("https://example.com/caf%C3%A9", &[], Some("/caf%C3%A9")),
        ("/café", &[], Some("/caf%C3%A9")),
        ("javascript:alert(1)", &[], None),
        ("data:text/html,<script>x</script>", &[], None),
        ("ftp://example.com/file", &[], None),
        ("mailto:a@example.com", &[], None),
        ("", &[], None),
        ("http://[::1", &[], None),
    ];

    #[test]
    fn page_path_table() {
        for (input, keep, want) in PATH_CASES {
            let keep: Vec<String> = keep.iter().map(|k| k.to_string()).collect();
            let got = page_path(input, &keep);
            assert_eq!(got.as_deref(), *want, "input {input:?}, keep {keep:?}");
        }
    }

    #[test]
    fn long_unicode_path_is_cut_cleanly() {
        for pad in 0..4 {
            let input = format!("/{}{}", "x".repeat(pad), "日本".repeat(600));
            let got = page_path(&input, &[]).unwrap_or_default();
            assert!(
                got.len() <= MAX_PATH_BYTES,
                "pad {pad}: {} bytes",
                got.len()
            );
            assert!(
                got.len() > MAX_PATH_BYTES - 3,
                "pad {pad}: {} bytes",
                got.len()
            );
            let tail = got.get(got.len() - 2..).unwrap_or_default();
            assert!(!tail.contains('%'), "pad {pad}: half escape at end: {tail}");
            assert!(got.starts_with(&format!("/{}%E6%97%A5", "x".repeat(pad))));
        }
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        let mut s = format!("/{}", "é".repeat(10));
        truncate_path(&mut s, 4);
        assert_eq!(s, "/é");
    }

    #[test]
    fn host_of_cases() {
        let cases = [
            ("https://www.Example.com:8080/x", Some("example.com")),
            ("http://blog.example.com", Some("blog.example.com")),
            ("ftp://example.com/", None),
            ("example.com", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(host_of(input).as_deref(), want, "input {input:?}");
        }
    }

    #[test]
    fn odd_input_does_not_panic() {
        let junk = [
            "\u{0}",
            "%",
            "%%%",
            "/%",
            "://",
            "//",
            "https://",
            "é:é",
            "[",
            "http://[",
            "?#?#",
            "🦀://🦀",
        ];
        for s in junk {
            let _ = classify(Some(s), Some(s), s);
            let _ = page_path(s, &[s.to_string()]);
            let _ = host_of(s);
        }
    }
}
