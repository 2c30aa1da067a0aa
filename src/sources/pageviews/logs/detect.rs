//! `--format auto`: the format that reads the most of a file's first lines, so an
//! import says which one it chose, and why, before it counts anything.

use super::format::{named, NAMED};
use super::line::LineReader;

/// How many leading non-empty lines detection reads.
pub const SAMPLE_LINES: usize = 50;

/// The chosen reader, with how many of the sample lines it read.
#[derive(Debug)]
pub struct Detected {
    pub reader: LineReader,
    pub read: usize,
    pub sampled: usize,
}

/// The candidate that reads the most sample lines (the first listed on a tie), or
/// `None` when none reads a single one.
pub fn detect<'a>(sample: impl IntoIterator<Item = &'a str>) -> Option<Detected> {
    let lines: Vec<&str> = sample
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .take(SAMPLE_LINES)
        .collect();
    let mut candidates: Vec<LineReader> = NAMED
        .iter()
        .filter_map(|(name, _)| named(name))
        .map(LineReader::template)
        .collect();
    candidates.push(LineReader::json());
    let mut best: Option<Detected> = None;
    for mut reader in candidates {
        let read = lines.iter().filter(|l| reader.read(l).is_ok()).count();
        if read > 0 && best.as_ref().is_none_or(|b| read > b.read) {
            best = Some(Detected {
                reader,
                read,
                sampled: lines.len(),
            });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_is_told_from_the_others() {
        let cases = [
            (
                r#"192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "UA""#,
                "combined",
            ),
            (
                r#"192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5"#,
                "common",
            ),
            (
                r#"example.com:80 192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "UA""#,
                "vhost_combined",
            ),
            (
                r#"example.com:80 192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5"#,
                "vhost_common",
            ),
            (
                r#"2001:db8::1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "UA""#,
                "combined",
            ),
            (
                r#"{"remote_addr":"192.0.2.1","time_iso8601":"2026-10-10T13:55:36+00:00","request":"GET / HTTP/1.1","status":200}"#,
                "json",
            ),
        ];
        for (line, name) in cases {
            let found = detect([line, "", line]).unwrap();
            assert_eq!(
                (found.reader.name(), found.read, found.sampled),
                (name, 2, 2),
                "{line}"
            );
        }
        assert!(detect(["not a log line", "nor this"]).is_none());
    }
}
