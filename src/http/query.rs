//! Query-string parsing for the stats API: a typed extractor whose failures are API
//! errors naming the parameter, and the date/range/limit/cursor conventions shared by
//! every endpoint.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Days, NaiveDate};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::stats::TimeRange;

mod fields;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 1000;

/// The OpenAPI schema of `from` and `to`: a UTC day (`format: date`, `YYYY-MM-DD`) or
/// an RFC 3339 instant (`format: date-time`), exactly what [`instant`] parses. Params
/// structs use it as `#[param(value_type = Option<query::Instant>, inline)]`.
pub struct Instant;

impl utoipa::PartialSchema for Instant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type,
        };
        let string = |format| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(format)))
        };
        AnyOfBuilder::new()
            .item(string(KnownFormat::Date))
            .item(string(KnownFormat::DateTime))
            .into()
    }
}

impl utoipa::ToSchema for Instant {}

/// Like `axum::extract::Query`, but a bad parameter is a JSON `invalid_query` error
/// that names the offending parameter (see [`fields`]).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        fields::parse(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// `YYYY-MM-DD` (a UTC day) or an RFC 3339 instant, as Unix milliseconds.
/// With `end_of_day`, a bare date means the instant after that day ends, so that
/// `to=2026-11-22` includes all of the 22nd.
pub fn instant(name: &'static str, value: &str, end_of_day: bool) -> Result<i64, ApiError> {
    // Exactly `YYYY-MM-DD`, as documented (`format: date`); chrono alone would take `2026-1-5`.
    let date = (value.len() == 10)
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten();
    if let Some(date) = date {
        let date = if end_of_day {
            date.checked_add_days(Days::new(1))
                .ok_or_else(|| ApiError::invalid_query(name, "date out of range"))?
        } else {
            date
        };
        return Ok(date
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis());
    }
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.timestamp_millis())
        .map_err(|_| ApiError::invalid_query(name, "expected YYYY-MM-DD or an RFC 3339 time"))
}

pub fn range(from: Option<&str>, to: Option<&str>) -> Result<TimeRange, ApiError> {
    let range = TimeRange {
        from: from.map(|v| instant("from", v, false)).transpose()?,
        to: to.map(|v| instant("to", v, true)).transpose()?,
    };
    if let (Some(f), Some(t)) = (range.from, range.to) {
        if f >= t {
            return Err(ApiError::invalid_query("to", "must be after `from`"));
        }
    }
    Ok(range)
}

pub fn limit(value: Option<usize>) -> Result<usize, ApiError> {
    bounded("limit", value, DEFAULT_LIMIT, MAX_LIMIT)
}

/// A count parameter (`limit`, `top`, ...): `default` when absent, else 1 to `max`.
pub fn bounded(
    name: &'static str,
    value: Option<usize>,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match value.unwrap_or(default) {
        n if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid_query(name, format!("must be 1 to {max}"))),
    }
}

/// Cursors are opaque to clients; today they carry a sequence number.
pub fn cursor(value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ApiError::invalid_query("cursor", "not a cursor this API returned"))
        })
        .transpose()
}

/// The documented schema of one parameter of a params struct, for tests that hold the
/// document to the bounds the handlers enforce.
#[cfg(test)]
pub fn param_schema<P: utoipa::IntoParams>(name: &str) -> serde_json::Value {
    let param = P::into_params(|| None)
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("parameter `{name}` is documented"));
    serde_json::to_value(param.schema).expect("a schema serialises")
}

/// Asserts a count parameter is documented as 1 to `max`, `default` when absent.
#[cfg(test)]
pub fn assert_documented_bounds<P: utoipa::IntoParams>(name: &str, default: usize, max: usize) {
    let schema = param_schema::<P>(name);
    assert_eq!(schema["minimum"].as_f64(), Some(1.0), "{name}: {schema}");
    assert_eq!(
        schema["maximum"].as_f64(),
        Some(max as f64),
        "{name}: {schema}"
    );
    assert_eq!(
        schema["default"].as_u64(),
        Some(default as u64),
        "{name}: {schema}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_instants() {
        assert_eq!(instant("from", "1970-01-02", false).unwrap(), 86_400_000);
        assert_eq!(instant("to", "1970-01-01", true).unwrap(), 86_400_000);
        assert_eq!(
            instant("from", "1970-01-01T00:00:01Z", false).unwrap(),
            1000
        );
        assert!(instant("from", "yesterday", false).is_err());
        assert!(range(Some("2026-02-01"), Some("2026-01-01")).is_err());
    }
}
