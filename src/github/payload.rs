//! Typed, lenient views of GitHub webhook payloads: only the fields the projections
//! need, every one optional, timestamps as RFC 3339 strings or Unix seconds (as in
//! `push` payloads). Unknown fields are skipped, so new GitHub fields never break intake.

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
    /// Any JSON: only a string is used, so odd shapes never fail the decode.
    pub from: Option<serde_json::Value>,
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

/// RFC 3339 string, Unix seconds, or null, as Unix milliseconds.
fn timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Seconds(i64),
        Float(f64),
    }
    Ok(match Option::<Raw>::deserialize(deserializer)? {
        None => None,
        Some(Raw::Text(s)) => chrono::DateTime::parse_from_rfc3339(&s)
            .ok()
            .map(|t| t.timestamp_millis()),
        Some(Raw::Seconds(s)) => Some(s.saturating_mul(1000)),
        Some(Raw::Float(s)) => Some((s * 1000.0) as i64),
    })
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
    }
}
