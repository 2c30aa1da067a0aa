//! Typed, lenient views of GitHub webhook payloads: only the fields the projections
//! need, every one optional, timestamps as RFC 3339 strings or Unix seconds (as in
//! `push` payloads). Unknown fields are skipped, so new GitHub fields never break intake.
//! Nothing is decoded into a `serde_json::Value`: what is not projected is only scanned.

use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Payload {
    pub action: Option<String>,
    /// `ping` only.
    pub zen: Option<String>,
    pub scope: Option<String>,
    pub organization: Option<Organization>,
    pub repository: Option<Repository>,
    pub pull_request: Option<PullRequest>,
    pub team: Option<Team>,
    pub member: Option<User>,
    pub membership: Option<OrgMembership>,
    pub changes: Option<Changes>,
}

/// The `changes` object of `*.renamed`/`*.edited` events; only what is projected.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Changes {
    pub login: Option<ChangedFrom>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChangedFrom {
    /// Any JSON is accepted, so odd shapes never fail the decode; only a string is kept.
    #[serde(deserialize_with = "string_or_nothing")]
    pub from: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Organization {
    pub login: Option<String>,
    pub id: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct User {
    pub login: Option<String>,
    pub id: Option<i64>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Repository {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub full_name: Option<String>,
    pub owner: Option<User>,
    pub private: Option<bool>,
    pub archived: Option<bool>,
    #[serde(deserialize_with = "timestamp")]
    pub updated_at: Option<i64>,
    #[serde(deserialize_with = "timestamp")]
    pub pushed_at: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Team {
    pub id: Option<i64>,
    pub slug: Option<String>,
    pub name: Option<String>,
    pub deleted: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrgMembership {
    pub user: Option<User>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Label {
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BaseRef {
    #[serde(rename = "ref")]
    pub name: Option<String>,
    /// The PR's repository, which REST listings carry instead of a top-level one.
    pub repo: Option<Repository>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PullRequest {
    pub id: Option<i64>,
    pub number: Option<i64>,
    pub title: Option<String>,
    pub state: Option<String>,
    pub draft: Option<bool>,
    pub merged: Option<bool>,
    pub user: Option<User>,
    pub base: Option<BaseRef>,
    pub labels: Option<Vec<Label>>,
    pub requested_reviewers: Option<Vec<User>>,
    pub additions: Option<i64>,
    pub deletions: Option<i64>,
    #[serde(deserialize_with = "timestamp")]
    pub created_at: Option<i64>,
    #[serde(deserialize_with = "timestamp")]
    pub updated_at: Option<i64>,
    #[serde(deserialize_with = "timestamp")]
    pub closed_at: Option<i64>,
    #[serde(deserialize_with = "timestamp")]
    pub merged_at: Option<i64>,
}

/// RFC 3339 string, Unix seconds (whole or not), or null, as Unix milliseconds, read
/// from the borrowed text without buffering. A string that is not RFC 3339 gives
/// `None`; a boolean, list or object fails the decode (the payload is then stored
/// without projection).
fn timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    struct Timestamp;
    impl<'de> Visitor<'de> for Timestamp {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an RFC 3339 timestamp, Unix seconds or null")
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
            Ok(chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.timestamp_millis()))
        }
        fn visit_i64<E>(self, s: i64) -> Result<Self::Value, E> {
            Ok(Some(s.saturating_mul(1000)))
        }
        fn visit_u64<E>(self, s: u64) -> Result<Self::Value, E> {
            Ok(Some(match i64::try_from(s) {
                Ok(s) => s.saturating_mul(1000),
                Err(_) => (s as f64 * 1000.0) as i64,
            }))
        }
        fn visit_f64<E>(self, s: f64) -> Result<Self::Value, E> {
            Ok(Some((s * 1000.0) as i64))
        }
    }
    deserializer.deserialize_option(Timestamp)
}

/// A string, or `None` for any other JSON value (which is skipped, not kept).
fn string_or_nothing<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    struct StringOrNothing;
    impl<'de> Visitor<'de> for StringOrNothing {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
            Ok(Some(s.to_owned()))
        }
        fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
            Ok(Some(s))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    deserializer.deserialize_any(StringOrNothing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_accept_strings_numbers_and_null() {
        let r: Repository =
            serde_json::from_str(r#"{"updated_at":"2019-05-15T15:20:41Z","pushed_at":1557933657}"#)
                .unwrap();
        assert_eq!(r.updated_at, Some(1_557_933_641_000));
        assert_eq!(r.pushed_at, Some(1_557_933_657_000));
        let r: Repository = serde_json::from_str(r#"{"updated_at":null}"#).unwrap();
        assert_eq!(r.updated_at, None);
        let r: Repository = serde_json::from_str(
            r#"{"updated_at":"yesterday","pushed_at":1.5,"owner":{"login":"a\u00e9"}}"#,
        )
        .unwrap();
        assert_eq!(r.updated_at, None);
        assert_eq!(r.pushed_at, Some(1_500));
        assert_eq!(r.owner.unwrap().login.as_deref(), Some("a\u{e9}"));
        let r: Repository = serde_json::from_str(r#"{"pushed_at":18446744073709551615}"#).unwrap();
        assert_eq!(r.pushed_at, Some(i64::MAX));
        let r: Repository = serde_json::from_str(r#"{"pushed_at":-5}"#).unwrap();
        assert_eq!(r.pushed_at, Some(-5_000));
        for odd in [
            r#"{"pushed_at":true}"#,
            r#"{"pushed_at":[1]}"#,
            r#"{"pushed_at":{}}"#,
        ] {
            let e = serde_json::from_str::<Repository>(odd).unwrap_err();
            assert_eq!(e.classify(), serde_json::error::Category::Data, "{odd}");
        }
    }

    #[test]
    fn changed_from_keeps_only_strings() {
        for (json, from) in [
            (r#"{"from":"Old"}"#, Some("Old")),
            (r#"{"from":null}"#, None),
            (r#"{"from":7}"#, None),
            (r#"{"from":{"a":[1,{"b":null}]}}"#, None),
            (r#"{"from":[true,"x"]}"#, None),
            (r#"{}"#, None),
        ] {
            let c: ChangedFrom = serde_json::from_str(json).unwrap();
            assert_eq!(c.from.as_deref(), from, "{json}");
        }
        assert!(serde_json::from_str::<ChangedFrom>(r#"{"from":{"a":}}"#).is_err());
    }
}
