//! One access-log line to one record: the fields counting needs, or the reason the line
//! cannot be read. Nothing here panics on input: a line is bytes from a file, so TLS
//! probes, truncated writes and binary junk are ordinary.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, NaiveTime};
use serde_json::{Map, Value};

use super::format::{Field, LineFormat, Token};

/// What counting needs of one request. `-` fields are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub address: Option<IpAddr>,
    pub ts_ms: i64,
    /// The logged time's UTC offset in seconds (0 where the log gives none).
    pub offset_s: i32,
    pub method: String,
    /// The request target as logged: a path with its query, or an absolute URL.
    pub target: String,
    pub status: u16,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    pub host: Option<String>,
}

/// Why a line was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unparsed {
    /// The line does not have the format's shape.
    Shape,
    /// The time field is not a time.
    Time,
    /// The request is not `METHOD target [protocol]` (a TLS probe, a port scan).
    Request,
    /// The status is not a number from 100 to 999.
    Status,
}

impl Unparsed {
    pub fn as_str(self) -> &'static str {
        match self {
            Unparsed::Shape => "shape",
            Unparsed::Time => "time",
            Unparsed::Request => "request",
            Unparsed::Status => "status",
        }
    }
}

/// Reads lines of one format. Keeps the last time it read: log lines come in runs of
/// the same second, and reading a time is most of the work.
#[derive(Debug, Clone)]
pub struct LineReader {
    shape: Shape,
    last_time: Option<(String, (i64, i32))>,
}

#[derive(Debug, Clone)]
enum Shape {
    Template(LineFormat),
    Json,
}

/// The fields of one line, as text, before they are checked.
#[derive(Default)]
struct Raw<'a> {
    address: Option<&'a str>,
    time: Option<(Field, &'a str)>,
    date: Option<&'a str>,
    clock: Option<&'a str>,
    request: Option<&'a str>,
    method: Option<&'a str>,
    target: Option<&'a str>,
    status: Option<&'a str>,
    referrer: Option<&'a str>,
    user_agent: Option<&'a str>,
    host: Option<&'a str>,
}

impl LineReader {
    pub fn template(format: LineFormat) -> LineReader {
        LineReader {
            shape: Shape::Template(format),
            last_time: None,
        }
    }

    /// JSON lines: one object per line, with nginx's variable names or common ones.
    pub fn json() -> LineReader {
        LineReader {
            shape: Shape::Json,
            last_time: None,
        }
    }

    /// Whether lines of this format carry a User-Agent (JSON lines may).
    pub fn has_agents(&self) -> bool {
        match &self.shape {
            Shape::Template(f) => f.tokens.contains(&Token::Field(Field::UserAgent)),
            Shape::Json => true,
        }
    }

    pub fn name(&self) -> &str {
        match &self.shape {
            Shape::Template(f) => &f.name,
            Shape::Json => "json",
        }
    }

    pub fn read(&mut self, line: &str) -> Result<Record, Unparsed> {
        let line = line.trim_end_matches(['\r', '\n']);
        match &self.shape {
            Shape::Template(format) => {
                let raw = split(format, line).ok_or(Unparsed::Shape)?;
                self.record(&raw)
            }
            Shape::Json => {
                let object: Map<String, Value> =
                    serde_json::from_str(line).map_err(|_| Unparsed::Shape)?;
                let text = |keys: &[&str]| -> Option<String> {
                    keys.iter().find_map(|k| match object.get(*k)? {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                };
                let owned = JsonFields {
                    address: text(&["remote_addr", "client_ip", "remote_ip", "ip", "clientip"]),
                    time: text(&["time_iso8601", "@timestamp", "timestamp", "time"])
                        .map(|t| (Field::TimeIso8601, t))
                        .or_else(|| text(&["time_local"]).map(|t| (Field::TimeLocal, t)))
                        .or_else(|| text(&["msec"]).map(|t| (Field::EpochSeconds, t))),
                    request: text(&["request"]),
                    method: text(&["request_method", "method"]),
                    target: text(&["request_uri", "uri", "path", "url"]),
                    status: text(&["status", "status_code"]),
                    referrer: text(&["http_referer", "referer", "referrer"]),
                    user_agent: text(&["http_user_agent", "user_agent", "agent"]),
                    host: text(&["host", "server_name", "vhost"]),
                };
                let raw = owned.raw();
                self.record(&raw)
            }
        }
    }

    fn record(&mut self, raw: &Raw<'_>) -> Result<Record, Unparsed> {
        let (ts_ms, offset_s) = self.time(raw)?;
        let (method, target) = match raw.request {
            Some(request) => request_parts(request)?,
            None => (
                raw.method.ok_or(Unparsed::Request)?,
                raw.target.ok_or(Unparsed::Request)?,
            ),
        };
        if !valid_method(method) || !valid_target(target) {
            return Err(Unparsed::Request);
        }
        let status = raw
            .status
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|s| (100..=999).contains(s))
            .ok_or(Unparsed::Status)?;
        let text = |v: Option<&str>| v.filter(|v| !v.is_empty() && *v != "-").map(str::to_owned);
        Ok(Record {
            address: raw.address.and_then(address),
            ts_ms,
            offset_s,
            method: method.to_owned(),
            target: target.to_owned(),
            status,
            referrer: text(raw.referrer),
            user_agent: text(raw.user_agent),
            host: text(raw.host),
        })
    }

    /// The time in UTC milliseconds, with the offset it was logged in.
    fn time(&mut self, raw: &Raw<'_>) -> Result<(i64, i32), Unparsed> {
        if let (Some(date), Some(clock)) = (raw.date, raw.clock) {
            let date = NaiveDate::parse_from_str(date, "%d/%b/%Y").map_err(|_| Unparsed::Time)?;
            let clock = NaiveTime::parse_from_str(clock, "%H:%M:%S").map_err(|_| Unparsed::Time)?;
            return Ok((date.and_time(clock).and_utc().timestamp_millis(), 0));
        }
        let (field, text) = raw.time.ok_or(Unparsed::Time)?;
        if let Some((last, time)) = &self.last_time {
            if last == text {
                return Ok(*time);
            }
        }
        let zoned =
            |t: DateTime<chrono::FixedOffset>| (t.timestamp_millis(), t.offset().local_minus_utc());
        let time = match field {
            Field::TimeLocal => DateTime::parse_from_str(text, "%d/%b/%Y:%H:%M:%S %z")
                .map(zoned)
                .ok(),
            Field::EpochSeconds => text
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && (0.0..1e11).contains(s))
                .map(|s| ((s * 1000.0).round() as i64, 0)),
            _ => DateTime::parse_from_rfc3339(text).map(zoned).ok(),
        }
        .ok_or(Unparsed::Time)?;
        self.last_time = Some((text.to_owned(), time));
        Ok(time)
    }
}

struct JsonFields {
    address: Option<String>,
    time: Option<(Field, String)>,
    request: Option<String>,
    method: Option<String>,
    target: Option<String>,
    status: Option<String>,
    referrer: Option<String>,
    user_agent: Option<String>,
    host: Option<String>,
}

impl JsonFields {
    fn raw(&self) -> Raw<'_> {
        Raw {
            address: self.address.as_deref(),
            time: self.time.as_ref().map(|(f, t)| (*f, t.as_str())),
            request: self.request.as_deref(),
            method: self.method.as_deref(),
            target: self.target.as_deref(),
            status: self.status.as_deref(),
            referrer: self.referrer.as_deref(),
            user_agent: self.user_agent.as_deref(),
            host: self.host.as_deref(),
            ..Raw::default()
        }
    }
}

/// Splits a line by a template: each field runs to the next literal; a field between
/// quotes runs to the next quote that is not escaped (Apache writes `\"`, nginx `\x22`).
fn split<'a>(format: &LineFormat, line: &'a str) -> Option<Raw<'a>> {
    let mut raw = Raw::default();
    let mut rest = line;
    let mut quoted = false;
    let tokens = &format.tokens;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Literal(text) => {
                rest = rest.strip_prefix(text.as_str())?;
                quoted = text.ends_with('"');
            }
            Token::Field(field) => {
                let end = match tokens.get(i + 1) {
                    None => rest.len(),
                    Some(Token::Literal(next)) if quoted && next.starts_with('"') => {
                        closing_quote(rest)?
                    }
                    Some(Token::Literal(next)) => rest.find(next.as_str())?,
                    Some(Token::Field(_)) => return None,
                };
                let value = &rest[..end];
                rest = &rest[end..];
                assign(&mut raw, *field, value);
            }
        }
    }
    rest.is_empty().then_some(raw)
}

fn closing_quote(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn assign<'a>(raw: &mut Raw<'a>, field: Field, value: &'a str) {
    match field {
        Field::Address => raw.address = Some(value),
        Field::TimeLocal | Field::TimeIso8601 | Field::EpochSeconds => {
            raw.time = Some((field, value))
        }
        Field::Date => raw.date = Some(value),
        Field::Time => raw.clock = Some(value),
        Field::Request => raw.request = Some(value),
        Field::Method => raw.method = Some(value),
        Field::Target => raw.target = Some(value),
        Field::Status => raw.status = Some(value),
        Field::Referrer => raw.referrer = Some(value),
        Field::UserAgent => raw.user_agent = Some(value),
        Field::Host => raw.host = Some(value),
        Field::Skip => {}
    }
}

/// `GET /a HTTP/1.1` → (`GET`, `/a`); HTTP/0.9's `GET /a` too.
fn request_parts(request: &str) -> Result<(&str, &str), Unparsed> {
    let mut parts = request.split(' ');
    let method = parts.next().ok_or(Unparsed::Request)?;
    let target = parts.next().ok_or(Unparsed::Request)?;
    match (parts.next(), parts.next()) {
        (None, None) => Ok((method, target)),
        (Some(protocol), None) if protocol.starts_with("HTTP/") => Ok((method, target)),
        _ => Err(Unparsed::Request),
    }
}

fn valid_method(method: &str) -> bool {
    (1..=16).contains(&method.len()) && method.bytes().all(|b| b.is_ascii_uppercase())
}

fn valid_target(target: &str) -> bool {
    target.starts_with('/') || target.starts_with("http://") || target.starts_with("https://")
}

/// A logged address; a hostname (Apache's `HostnameLookups`) or `-` is no address.
fn address(text: &str) -> Option<IpAddr> {
    let text = text.trim_start_matches('[').trim_end_matches(']');
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::super::format::{goaccess, named, nginx};
    use super::*;

    fn combined() -> LineReader {
        LineReader::template(named("combined").unwrap())
    }

    #[test]
    fn reads_an_nginx_combined_line() {
        let r = combined()
            .read(r#"203.0.113.9 - - [10/Oct/2026:13:55:36 -0700] "GET /a?b=1 HTTP/1.1" 200 612 "https://news.ycombinator.com/" "Mozilla/5.0 (X11; Linux x86_64)""#)
            .unwrap();
        assert_eq!(r.address, Some("203.0.113.9".parse().unwrap()));
        assert_eq!((r.ts_ms, r.offset_s), (1_791_665_736_000, -7 * 3600));
        assert_eq!(
            (r.method.as_str(), r.target.as_str(), r.status),
            ("GET", "/a?b=1", 200)
        );
        assert_eq!(r.referrer.as_deref(), Some("https://news.ycombinator.com/"));
        assert_eq!(
            r.user_agent.as_deref(),
            Some("Mozilla/5.0 (X11; Linux x86_64)")
        );
    }

    #[test]
    fn dashes_ipv6_and_escaped_quotes_are_read() {
        let r = combined()
            .read(r#"2001:db8::1 - alice [01/Jan/2026:00:00:00 +0000] "GET /q?x=\"y\" HTTP/2.0" 304 0 "-" "curl/8.5 \"quoted\"""#)
            .unwrap();
        assert_eq!(r.address, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(r.target, r#"/q?x=\"y\""#);
        assert_eq!(r.referrer, None);
        assert_eq!(r.user_agent.as_deref(), Some(r#"curl/8.5 \"quoted\""#));
    }

    #[test]
    fn tls_probes_and_junk_are_unparsed_with_a_reason() {
        let mut reader = combined();
        let probe = r#"198.51.100.7 - - [10/Oct/2026:13:55:36 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03" 400 157 "-" "-""#;
        assert_eq!(reader.read(probe), Err(Unparsed::Request));
        assert_eq!(reader.read(""), Err(Unparsed::Shape));
        assert_eq!(reader.read("\u{0}\u{1}binary"), Err(Unparsed::Shape));
        let bad_time = r#"1.2.3.4 - - [99/Foo/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-""#;
        assert_eq!(reader.read(bad_time), Err(Unparsed::Time));
        let bad_status =
            r#"1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 2000 1 "-" "-""#;
        assert_eq!(reader.read(bad_status), Err(Unparsed::Status));
    }

    #[test]
    fn common_vhost_and_custom_formats_read() {
        let mut common = LineReader::template(named("common").unwrap());
        let r = common
            .read(r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#)
            .unwrap();
        assert_eq!((r.target.as_str(), r.user_agent), ("/apache_pb.gif", None));
        let mut vhost = LineReader::template(named("vhost_combined").unwrap());
        let r = vhost
            .read(r#"example.com:443 192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0""#)
            .unwrap();
        assert_eq!(r.host.as_deref(), Some("example.com"));
        let mut custom = LineReader::template(
            nginx(r#"$time_iso8601 $request_method $request_uri $status "$http_user_agent" $remote_addr"#).unwrap(),
        );
        let r = custom
            .read(r#"2026-10-10T13:55:36+00:00 GET /x 201 "Mozilla/5.0 (a b)" 192.0.2.1"#)
            .unwrap();
        assert_eq!((r.method.as_str(), r.status), ("GET", 201));
        let mut ga =
            LineReader::template(goaccess(r#"%h %^[%d:%t %^] "%r" %s %b "%R" "%u""#).unwrap());
        let r = ga
            .read(r#"192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /g HTTP/1.1" 200 5 "-" "UA""#)
            .unwrap();
        assert_eq!((r.target.as_str(), r.ts_ms), ("/g", 1_791_640_536_000));
    }

    #[test]
    fn json_lines_read_with_nginx_or_common_names() {
        let mut json = LineReader::json();
        let r = json
            .read(r#"{"remote_addr":"192.0.2.1","time_iso8601":"2026-10-10T13:55:36+00:00","request":"GET /j HTTP/1.1","status":"200","http_user_agent":"UA","http_referer":""}"#)
            .unwrap();
        assert_eq!((r.target.as_str(), r.status, r.referrer), ("/j", 200, None));
        let r = json
            .read(r#"{"ip":"192.0.2.1","timestamp":"2026-10-10T13:55:36Z","method":"GET","path":"/k","status":404}"#)
            .unwrap();
        assert_eq!((r.target.as_str(), r.status), ("/k", 404));
        assert_eq!(json.read("[1,2]"), Err(Unparsed::Shape));
        assert_eq!(json.read(r#"{"status":200}"#), Err(Unparsed::Time));
    }
}
