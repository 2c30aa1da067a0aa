//! `reckon tokens`: issue, list and revoke read tokens on the configured store. A token
//! is printed once, at `add`; the store keeps only its hash.

use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::token::{self, Tokens};
use super::Scope;
use crate::settings::Config;
use crate::store::StoreError;

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Issue a read token and print it (it is shown only once).
    Add {
        /// A label to recognise the token by, e.g. who holds it.
        #[arg(long)]
        name: String,
        /// What it may read; repeat for several: `admin` (delivery log, drift, queue,
        /// metrics), `github:ORG` or `github:*`, `source:NAME`, `site:DOMAIN`,
        /// `heartbeats:USER` (`*` for every name).
        #[arg(long = "scope", required = true, value_parser = parse_scope)]
        scopes: Vec<Scope>,
        /// Expire it after this long: e.g. `90d`, `12h`, `30m`, `2w`. Never by default.
        #[arg(long, value_parser = parse_duration)]
        expires_in: Option<chrono::Duration>,
    },
    /// List tokens (ids, names, scopes, dates; never the tokens themselves).
    List,
    /// Revoke a token by id; reads with it are refused from the next request on.
    Revoke {
        /// The token id shown by `reckon tokens list` (the part after `rkt_`).
        id: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no live token with id `{0}` (see `reckon tokens list`)")]
    NoSuchToken(String),
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    s.parse().map_err(|e: super::InvalidScope| e.to_string())
}

/// `90d`, `12h`, `30m`, `45s`, `2w`: a whole number and one unit.
fn parse_duration(s: &str) -> Result<chrono::Duration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: i64 = number
        .parse()
        .ok()
        .filter(|n| *n > 0 && *n <= 100_000)
        .ok_or_else(|| format!("`{s}` is not a duration like 90d, 12h, 30m or 2w"))?;
    match unit {
        "s" => Ok(chrono::Duration::seconds(n)),
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        "w" => Ok(chrono::Duration::weeks(n)),
        _ => Err(format!("`{s}` is not a duration like 90d, 12h, 30m or 2w")),
    }
}

pub async fn run(config: &Config, command: TokensCommand) -> Result<String, TokensError> {
    let store = crate::open_store(config).await?;
    let tokens = Tokens::new(store.as_ref());
    match command {
        TokensCommand::Add {
            name,
            scopes,
            expires_in,
        } => {
            let expires_at = expires_in.map(|d| Utc::now() + d);
            let new = token::generate(&name, scopes, expires_at);
            tokens.create(&new.record).await?;
            Ok(format!(
                "created token {id} `{name}` for {scopes}{expiry}\n\n    {token}\n\nSend it as `Authorization: Bearer <token>`, or paste it into the dashboard. It is shown only now.",
                id = new.record.id,
                scopes = join(&new.record.scopes),
                expiry = expires_at.map(|at| format!(", expiring {}", stamp(at))).unwrap_or_default(),
                token = new.token,
            ))
        }
        TokensCommand::List => list(&tokens.list().await?),
        TokensCommand::Revoke { id } => {
            if tokens.revoke(&id).await? {
                Ok(format!("revoked token {id}"))
            } else {
                Err(TokensError::NoSuchToken(id))
            }
        }
    }
}

fn join(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(Scope::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn list(records: &[token::TokenRecord]) -> Result<String, TokensError> {
    if records.is_empty() {
        return Ok(
            "no tokens yet; issue one with `reckon tokens add --name NAME --scope SCOPE`".into(),
        );
    }
    let now = Utc::now();
    let mut out = format!(
        "{:<14} {:<24} {:<8} {:<22} {:<22} {}\n",
        "ID", "NAME", "STATE", "CREATED", "EXPIRES", "SCOPES"
    );
    for t in records {
        let state = match (t.revoked_at, t.is_live(now)) {
            (Some(_), _) => "revoked",
            (None, true) => "live",
            (None, false) => "expired",
        };
        out.push_str(&format!(
            "{:<14} {:<24} {:<8} {:<22} {:<22} {}\n",
            t.id,
            t.name,
            state,
            stamp(t.created_at),
            t.expires_at.map(stamp).unwrap_or_else(|| "-".into()),
            join(&t.scopes),
        ));
    }
    Ok(out.trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_take_one_unit() {
        assert_eq!(parse_duration("90d").unwrap(), chrono::Duration::days(90));
        assert_eq!(parse_duration("2w").unwrap(), chrono::Duration::weeks(2));
        assert_eq!(
            parse_duration("30m").unwrap(),
            chrono::Duration::minutes(30)
        );
        for bad in ["", "d", "0d", "5", "5y", "-1d", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
