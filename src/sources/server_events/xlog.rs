//! DCSS's xlog line format, used by the `logfile` (finished games) and `milestones`
//! files that game servers write. `/submit` bodies and `reckon ship` both carry these
//! lines, so the parsing rules (escaping, timestamps, event kinds) live here once.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

/// Fields holding xlog timestamps: `start` (game start, both files), `end` (game end,
/// `logfile`) and `time` (when a milestone happened).
pub const TIME_KEYS: [&str; 3] = ["start", "end", "time"];

/// Longest excerpt of a bad field quoted in an error.
const EXCERPT_CHARS: usize = 60;

/// One xlog line: its `key=value` fields in line order, values unescaped (`::` → `:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XlogLine {
    pub fields: Vec<(String, String)>,
}

/// Why a line is not xlog. `field` counts the line's non-empty fields from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XlogError {
    #[error("the line has no fields")]
    Empty,
    #[error("field {field} ({text:?}) has no `=`")]
    MissingEquals { field: usize, text: String },
    #[error("field {field} has the key {key:?}; keys are letters, digits and `_`")]
    InvalidKey { field: usize, key: String },
    #[error("field {field} repeats the key `{key}`")]
    DuplicateKey { field: usize, key: String },
    #[error("field {field} (`{key}`) is not an xlog time")]
    Time {
        field: usize,
        key: String,
        #[source]
        source: TimeError,
    },
}

/// Why a value is not an xlog time `YYYYMMDDhhmmss` + `S`/`D` (0-based month).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("expected 15 characters (YYYYMMDDhhmmss then S or D), got {0} bytes")]
    Length(usize),
    #[error("expected digits in YYYYMMDDhhmmss")]
    NotDigits,
    #[error("expected the suffix S or D, got {0:?}")]
    Suffix(char),
    #[error("month {0:02} is out of range 00-11 (xlog months count from 0)")]
    Month(u32),
    #[error("{0:?} is not a calendar date and time of day")]
    OutOfRange(String),
}

/// A line of a text body that is not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} is not valid UTF-8")]
pub struct LineError {
    pub line: usize,
    #[source]
    pub source: std::str::Utf8Error,
}

impl XlogLine {
    /// The value of `key`, unescaped.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `"milestone"` for a line with a `milestone` field (or a `type` field and no
    /// `ktyp`), `"game"` for a line with `ktyp`, otherwise `None` (the caller decides).
    pub fn kind(&self) -> Option<&'static str> {
        if self.get("milestone").is_some() {
            Some("milestone")
        } else if self.get("ktyp").is_some() {
            Some("game")
        } else if self.get("type").is_some() {
            Some("milestone")
        } else {
            None
        }
    }

    /// Every field as a JSON string.
    pub fn to_json(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect()
    }

    /// The timestamp in field `key`, if present and valid (`parse_line` has checked
    /// the fields in [`TIME_KEYS`]).
    pub fn time(&self, key: &str) -> Option<DateTime<Utc>> {
        self.get(key).and_then(|v| parse_time(v).ok())
    }
}

/// Parses one xlog line (a trailing `\n` or `\r\n` is ignored).
///
/// Fields are separated by a single `:`; `::` is always a literal colon, read left to
/// right, so `a=1::2:b=3` is `a` = `1:2`, `b` = `3`, and `a=1::` is `a` = `1:` (DCSS
/// writes the value `1:` that way). Empty fields (a leading or trailing `:`, or `:::`
/// after an escaped colon) are skipped. A field is `key=value` split at the first `=`;
/// keys are non-empty `[A-Za-z0-9_]+` and unique. The time fields in [`TIME_KEYS`]
/// must parse with [`parse_time`]. A line with no fields at all is [`XlogError::Empty`];
/// callers skip blank lines before parsing.
pub fn parse_line(line: &str) -> Result<XlogLine, XlogError> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut fields = Vec::new();
    let mut seen = HashSet::new();
    for (index, raw) in split_fields(line).filter(|f| !f.is_empty()).enumerate() {
        let field = index + 1;
        let Some((key, value)) = raw.split_once('=') else {
            return Err(XlogError::MissingEquals {
                field,
                text: excerpt(&unescape(raw)),
            });
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            let key = excerpt(&unescape(key));
            return Err(XlogError::InvalidKey { field, key });
        }
        if !seen.insert(key) {
            let key = key.to_owned();
            return Err(XlogError::DuplicateKey { field, key });
        }
        let value = unescape(value);
        if TIME_KEYS.contains(&key) {
            parse_time(&value).map_err(|source| XlogError::Time {
                field,
                key: key.to_owned(),
                source,
            })?;
        }
        fields.push((key.to_owned(), value));
    }
    if fields.is_empty() {
        return Err(XlogError::Empty);
    }
    Ok(XlogLine { fields })
}

/// The raw (still escaped) fields of a line: split at every `:` that is not part of a
/// `::` pair, pairing colons from the left.
fn split_fields(line: &str) -> impl Iterator<Item = &str> {
    let bytes = line.as_bytes();
    let (mut start, mut i, mut done) = (0, 0, false);
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        while i < bytes.len() {
            if bytes[i] == b':' {
                if bytes.get(i + 1) == Some(&b':') {
                    i += 2;
                    continue;
                }
                let field = &line[start..i];
                i += 1;
                start = i;
                return Some(field);
            }
            i += 1;
        }
        done = true;
        Some(&line[start..])
    })
}

/// Within a field every run of colons has even length (see `split_fields`), so
/// replacing pairs left to right undoes DCSS's escaping exactly.
fn unescape(raw: &str) -> String {
    raw.replace("::", ":")
}

fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Parses an xlog time: `YYYYMMDDhhmmss` then `S` or `D`, with the month counted from
/// 0 (`20200418093334S` is 2020-05-18T09:33:34Z). The suffix is the server's DST flag
/// (`tm_isdst`); servers write these times from `gmtime`, so they are read as UTC and
/// the flag is ignored.
pub fn parse_time(value: &str) -> Result<DateTime<Utc>, TimeError> {
    let bytes = value.as_bytes();
    if bytes.len() != 15 {
        return Err(TimeError::Length(bytes.len()));
    }
    let (digits, suffix) = bytes.split_at(14);
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(TimeError::NotDigits);
    }
    // 14 ASCII digits leave one byte, which must be ASCII in a `str`.
    if !matches!(suffix[0], b'S' | b'D') {
        return Err(TimeError::Suffix(char::from(suffix[0])));
    }
    let number = |from: usize, to: usize| {
        digits[from..to]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let month0 = number(4, 6);
    if month0 > 11 {
        return Err(TimeError::Month(month0));
    }
    // At most 9999, so the cast is lossless.
    let year = number(0, 4) as i32;
    NaiveDate::from_ymd_opt(year, month0 + 1, number(6, 8))
        .and_then(|d| d.and_hms_opt(number(8, 10), number(10, 12), number(12, 14)))
        .map(|t| t.and_utc())
        .ok_or_else(|| TimeError::OutOfRange(value.to_owned()))
}

/// What the stats group by, taken from an event's `data` (parsed xlog fields, or the
/// JSON object a server submitted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// `name`.
    pub player: Option<String>,
    /// `ktyp`: how the game ended (`mon`, `winning`, `quitting`, …).
    pub ktyp: Option<String>,
    /// A milestone's `type` (`uniq`, `rune`, `br.enter`, …); `None` for other kinds.
    pub milestone_type: Option<String>,
    /// `ktyp` is `winning`.
    pub won: bool,
    /// `end` for games, `time` otherwise, as Unix milliseconds; `None` when missing or
    /// not an xlog time.
    pub game_time_ms: Option<i64>,
}

/// The facts of an event of `kind` (`"game"`, `"milestone"`, or another kind a server
/// named). Only string values count; empty strings are treated as missing.
pub fn facts(kind: &str, data: &Map<String, Value>) -> Facts {
    let text = |key: &str| {
        data.get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let time_key = if kind == "game" { "end" } else { "time" };
    let ktyp = text("ktyp").map(str::to_owned);
    Facts {
        player: text("name").map(str::to_owned),
        won: ktyp.as_deref() == Some("winning"),
        milestone_type: if kind == "milestone" {
            text("type").map(str::to_owned)
        } else {
            None
        },
        game_time_ms: text(time_key)
            .and_then(|v| parse_time(v).ok())
            .map(|t| t.timestamp_millis()),
        ktyp,
    }
}

/// Splits a `text/plain` body into lines: `(line number from 1, byte offset of the
/// line's start, the line)`. Offsets are `first_offset` plus the position in `body`
/// (`None` without a `first_offset`, or past `u64::MAX`). Lines end with `\n`; a
/// trailing `\r` is trimmed; a last line without `\n` is still a line. Blank and
/// whitespace-only lines are skipped but count for numbers and offsets. A line that is
/// not UTF-8 is an error for that line.
pub fn lines_with_offsets(
    body: &[u8],
    first_offset: Option<u64>,
) -> impl Iterator<Item = (usize, Option<u64>, Result<&str, LineError>)> + '_ {
    let mut start = 0usize;
    body.split_inclusive(|&b| b == b'\n')
        .enumerate()
        .filter_map(move |(index, raw)| {
            let at = start;
            start += raw.len();
            let line = raw.strip_suffix(b"\n").unwrap_or(raw);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            let number = index + 1;
            let offset = first_offset.and_then(|o| o.checked_add(at as u64));
            let text = std::str::from_utf8(line).map_err(|source| LineError {
                line: number,
                source,
            });
            Some((number, offset, text))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GAME: &str = "v=0.25-a0:vlong=0.25-a0-544-g1b6a1b3:lv=0.1:vsav=34.201:\
        vsavrv=Git::0.25-a0-544-g1b6a1b3:tiles=1:name=Blork:race=Minotaur:cls=Fighter:\
        char=MiFi:xl=3:sk=Fighting:sklev=5:title=Skirmisher:place=D::2:br=D:lvl=2:\
        absdepth=2:hp=-2:mhp=32:mmhp=32:mp=1:mmp=1:bmmp=1:str=15:int=6:dex=9:ac=8:ev=7:\
        sh=0:god=:start=20200418093000S:dur=334:turn=1234:aut=12340:kills=10:status=:\
        gold=20:goldfound=20:goldspent=0:sc=27:ktyp=mon:killer=an orc:dam=7:sdam=7:\
        tdam=7:kaux=a club:end=20200418093534S:tmsg=slain by an orc:\
        vmsg=slain by an orc (a club)";

    const MILESTONE: &str = "v=0.25-a0:vlong=0.25-a0-544-g1b6a1b3:lv=0.1:\
        vsav=34.201:vsavrv=Git::0.25-a0-544-g1b6a1b3:tiles=1:name=Sigmund:race=Minotaur:\
        cls=Fighter:char=MiFi:xl=3:sk=Fighting:sklev=5:title=Skirmisher:place=D::2:br=D:\
        lvl=2:absdepth=2:hp=32:mhp=32:mmhp=32:mp=1:mmp=1:bmmp=1:str=15:int=6:dex=9:ac=8:\
        ev=7:sh=0:god=:start=20200418093000S:dur=300:turn=1100:aut=11000:kills=9:status=:\
        gold=20:goldfound=20:goldspent=0:sc=0:time=20200418093334S:type=uniq:\
        milestone=killed Blork the orc.";

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn parses_a_logfile_line_in_order_with_escapes() {
        let line = parse_line(GAME).unwrap();
        assert_eq!(line.fields.len(), 50);
        assert_eq!(line.fields[0], ("v".to_owned(), "0.25-a0".to_owned()));
        assert_eq!(line.get("vsavrv"), Some("Git:0.25-a0-544-g1b6a1b3"));
        assert_eq!(line.get("place"), Some("D:2"));
        assert_eq!(line.get("god"), Some(""));
        assert_eq!(line.get("killer"), Some("an orc"));
        assert_eq!(line.get("vmsg"), Some("slain by an orc (a club)"));
        assert_eq!(line.get("nope"), None);
        assert_eq!(line.kind(), Some("game"));
        assert_eq!(line.time("end"), Some(utc("2020-05-18T09:35:34Z")));
    }

    #[test]
    fn parses_a_milestone_line() {
        let line = parse_line(MILESTONE).unwrap();
        assert_eq!(line.kind(), Some("milestone"));
        assert_eq!(line.get("type"), Some("uniq"));
        assert_eq!(line.get("milestone"), Some("killed Blork the orc."));
        assert_eq!(line.time("time"), Some(utc("2020-05-18T09:33:34Z")));
    }

    #[test]
    fn escaped_colons_pair_from_the_left() {
        let fields = |line: &str| parse_line(line).unwrap().fields;
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(fields("a=1::2:b=3"), pairs(&[("a", "1:2"), ("b", "3")]));
        assert_eq!(fields("a=1::"), pairs(&[("a", "1:")]));
        assert_eq!(fields("a=1:::b=2"), pairs(&[("a", "1:"), ("b", "2")]));
        assert_eq!(fields("a=::1:b=2"), pairs(&[("a", ":1"), ("b", "2")]));
        assert_eq!(fields("a=x::::y"), pairs(&[("a", "x::y")]));
        assert_eq!(fields("a=1::b=2"), pairs(&[("a", "1:b=2")]));
        assert_eq!(fields("a=b=c"), pairs(&[("a", "b=c")]));
    }

    #[test]
    fn empty_fields_are_skipped() {
        let keys = |line: &str| -> Vec<String> {
            parse_line(line)
                .unwrap()
                .fields
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        assert_eq!(keys("a=1:"), ["a"]);
        assert_eq!(keys(":a=1"), ["a"]);
        assert_eq!(keys("a=1:::::b=2"), ["a", "b"]);
        assert_eq!(keys("a=1\r\n"), ["a"]);
        assert_eq!(keys("a=:b="), ["a", "b"]);
    }

    #[test]
    fn malformed_lines_say_which_field() {
        assert_eq!(parse_line(""), Err(XlogError::Empty));
        assert_eq!(parse_line(":"), Err(XlogError::Empty));
        assert_eq!(
            parse_line("a=1:oops:b=2"),
            Err(XlogError::MissingEquals {
                field: 2,
                text: "oops".into()
            })
        );
        assert_eq!(
            parse_line("::"),
            Err(XlogError::MissingEquals {
                field: 1,
                text: ":".into()
            })
        );
        assert_eq!(
            parse_line("a=1:=2"),
            Err(XlogError::InvalidKey {
                field: 2,
                key: String::new()
            })
        );
        assert_eq!(
            parse_line("a=1:b c=2"),
            Err(XlogError::InvalidKey {
                field: 2,
                key: "b c".into()
            })
        );
        assert_eq!(
            parse_line("a::b=1"),
            Err(XlogError::InvalidKey {
                field: 1,
                key: "a:b".into()
            })
        );
        assert_eq!(
            parse_line("a=1:b=2:a=3"),
            Err(XlogError::DuplicateKey {
                field: 3,
                key: "a".into()
            })
        );
        let long = format!("a=1:{}", "x".repeat(500));
        let message = parse_line(&long).unwrap_err().to_string();
        assert!(message.len() < 120, "{message}");
    }

    #[test]
    fn bad_times_name_the_field() {
        let err = parse_line("name=x:start=20201218093000S").unwrap_err();
        assert_eq!(
            err,
            XlogError::Time {
                field: 2,
                key: "start".into(),
                source: TimeError::Month(12)
            }
        );
        assert!(err.to_string().contains("`start`"), "{err}");
        let err = parse_line("end=2020041809300S:x=1").unwrap_err();
        assert!(matches!(err, XlogError::Time { field: 1, ref key, .. } if key == "end"));
        assert!(parse_line("time=:x=1").is_err());
        // Other fields may hold anything.
        assert!(parse_line("dur=20201218093000S").is_ok());
    }

    #[test]
    fn times_have_zero_based_months_and_are_utc() {
        assert_eq!(
            parse_time("20200418093334S"),
            Ok(utc("2020-05-18T09:33:34Z"))
        );
        assert_eq!(
            parse_time("20200418093334D"),
            Ok(utc("2020-05-18T09:33:34Z"))
        );
        assert_eq!(
            parse_time("20190001000000S"),
            Ok(utc("2019-01-01T00:00:00Z"))
        );
        assert_eq!(
            parse_time("20191131235959S"),
            Ok(utc("2019-12-31T23:59:59Z"))
        );
        assert_eq!(
            parse_time("20200128120000S"),
            Ok(utc("2020-02-28T12:00:00Z"))
        );
    }

    #[test]
    fn invalid_times_are_errors() {
        assert_eq!(parse_time("20201218093000S"), Err(TimeError::Month(12)));
        assert!(matches!(
            parse_time("20200432093000S"),
            Err(TimeError::OutOfRange(_))
        ));
        // February 30th (month 01 is February).
        assert!(matches!(
            parse_time("20200130093000S"),
            Err(TimeError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_time("20200418243000S"),
            Err(TimeError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_time("20200418096000S"),
            Err(TimeError::OutOfRange(_))
        ));
        assert_eq!(parse_time("20200418093000X"), Err(TimeError::Suffix('X')));
        assert_eq!(parse_time("20200418093000"), Err(TimeError::Length(14)));
        assert_eq!(parse_time("20200418093000SS"), Err(TimeError::Length(16)));
        assert_eq!(parse_time(""), Err(TimeError::Length(0)));
        assert_eq!(parse_time("2020041809300aS"), Err(TimeError::NotDigits));
        assert_eq!(parse_time("2020-418093000S"), Err(TimeError::NotDigits));
        assert_eq!(parse_time("2020041809300éS"), Err(TimeError::Length(16)));
    }

    #[test]
    fn kind_follows_milestone_ktyp_and_type() {
        let kind = |line: &str| parse_line(line).unwrap().kind();
        assert_eq!(kind("milestone=entered D::2"), Some("milestone"));
        assert_eq!(kind("type=rune:name=x"), Some("milestone"));
        assert_eq!(kind("ktyp=quitting:name=x"), Some("game"));
        assert_eq!(kind("milestone=won:ktyp=winning"), Some("milestone"));
        assert_eq!(kind("type=x:ktyp=mon"), Some("game"));
        assert_eq!(kind("name=x:sc=1"), None);
    }

    #[test]
    fn to_json_keeps_every_field_as_a_string() {
        let json = parse_line("name=Blork:sc=27:god=:place=D::2")
            .unwrap()
            .to_json();
        assert_eq!(
            Value::Object(json),
            json!({"name": "Blork", "sc": "27", "god": "", "place": "D:2"})
        );
    }

    #[test]
    fn facts_of_parsed_lines() {
        let game = facts("game", &parse_line(GAME).unwrap().to_json());
        assert_eq!(
            game,
            Facts {
                player: Some("Blork".into()),
                ktyp: Some("mon".into()),
                milestone_type: None,
                won: false,
                game_time_ms: Some(utc("2020-05-18T09:35:34Z").timestamp_millis()),
            }
        );
        let milestone = facts("milestone", &parse_line(MILESTONE).unwrap().to_json());
        assert_eq!(
            milestone,
            Facts {
                player: Some("Sigmund".into()),
                ktyp: None,
                milestone_type: Some("uniq".into()),
                won: false,
                game_time_ms: Some(utc("2020-05-18T09:33:34Z").timestamp_millis()),
            }
        );
    }

    #[test]
    fn facts_of_submitted_json() {
        let data = |v: Value| v.as_object().unwrap().clone();
        let won = facts(
            "game",
            &data(json!({"name": "Ana", "ktyp": "winning", "end": "20231124120000D", "type": "x"})),
        );
        assert!(won.won);
        assert_eq!(won.milestone_type, None);
        assert_eq!(
            won.game_time_ms,
            Some(utc("2023-12-24T12:00:00Z").timestamp_millis())
        );
        let odd = facts(
            "milestone",
            &data(json!({"name": 7, "type": "br.enter", "time": "yesterday", "ktyp": ""})),
        );
        assert_eq!(
            odd,
            Facts {
                milestone_type: Some("br.enter".into()),
                ..Facts::default()
            }
        );
        let other = facts(
            "crash",
            &data(json!({"time": "20200418093334S", "end": "x"})),
        );
        assert_eq!(
            other.game_time_ms,
            Some(utc("2020-05-18T09:33:34Z").timestamp_millis())
        );
        assert_eq!(facts("game", &Map::new()), Facts::default());
    }

    #[test]
    fn lines_carry_numbers_and_offsets() {
        let body = b"a=1\n\nb=22\r\n   \nc=333";
        let lines: Vec<_> = lines_with_offsets(body, Some(100))
            .map(|(n, o, l)| (n, o, l.unwrap()))
            .collect();
        assert_eq!(
            lines,
            [
                (1, Some(100), "a=1"),
                (3, Some(105), "b=22"),
                (5, Some(115), "c=333")
            ]
        );
        let plain: Vec<_> = lines_with_offsets(b"x=1\ny=2\n", None)
            .map(|(n, o, _)| (n, o))
            .collect();
        assert_eq!(plain, [(1, None), (2, None)]);
        assert_eq!(lines_with_offsets(b"", Some(0)).count(), 0);
        assert_eq!(lines_with_offsets(b"\n\r\n \t\n", Some(0)).count(), 0);
    }

    #[test]
    fn invalid_utf8_is_an_error_for_its_line_only() {
        let body = b"a=1\nb=\xff\xfe\nc=3\n";
        let lines: Vec<_> = lines_with_offsets(body, Some(0)).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].2, Ok("a=1"));
        let err = lines[1].2.clone().unwrap_err();
        assert_eq!((lines[1].0, lines[1].1, err.line), (2, Some(4), 2));
        assert_eq!(err.to_string(), "line 2 is not valid UTF-8");
        assert_eq!(lines[2].2, Ok("c=3"));
    }

    #[test]
    fn offsets_past_u64_max_are_none() {
        let offsets: Vec<_> = lines_with_offsets(b"a=1\nb=2\n", Some(u64::MAX))
            .map(|(_, o, _)| o)
            .collect();
        assert_eq!(offsets, [Some(u64::MAX), None]);
    }
}
