//! Deserializes a query string into a params struct one field at a time, so a failure
//! names the parameter that caused it (`?limit=abc` is an error about `limit`), which
//! `serde_urlencoded` alone cannot tell.

use serde::de::value::Error;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

use crate::http::error::ApiError;

/// Longest parameter name echoed back in an error.
const MAX_NAME: usize = 64;

/// Parses `query` into `T`; an error names the parameter that failed, where known.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|e| ApiError::InvalidParameter {
            name: "query".into(),
            reason: e.to_string(),
        })?;
    let mut current = None;
    T::deserialize(Pairs {
        pairs: pairs.into_iter(),
        value: None,
        current: &mut current,
    })
    .map_err(|error| {
        let reason = error.to_string();
        let name = missing_field(&reason)
            .map(str::to_owned)
            .or(current)
            .unwrap_or_else(|| "query".into());
        ApiError::InvalidParameter {
            name: name.chars().take(MAX_NAME).collect(),
            reason,
        }
    })
}

/// serde's own message for an absent required field: "missing field `name`".
fn missing_field(reason: &str) -> Option<&str> {
    reason
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
}

/// The whole query as a map, remembering the key whose value is being read.
struct Pairs<'c> {
    pairs: std::vec::IntoIter<(String, String)>,
    value: Option<String>,
    current: &'c mut Option<String>,
}

impl<'de> de::Deserializer<'de> for Pairs<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        struct enum identifier ignored_any
    }
}

impl<'de> MapAccess<'de> for Pairs<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.pairs.next() {
            Some((key, value)) => {
                *self.current = Some(key.clone());
                self.value = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self.value.take().unwrap_or_default();
        seed.deserialize(Part(value))
    }
}

/// One parameter's value: a string that numbers, booleans and enums are parsed from.
struct Part(String);

impl Part {
    fn parse<T: std::str::FromStr>(&self, what: &str) -> Result<T, Error> {
        self.0
            .parse()
            .map_err(|_| de::Error::custom(format!("expected {what}, got `{}`", clip(&self.0))))
    }
}

/// A value as echoed in an error: at most 64 characters.
fn clip(value: &str) -> String {
    let mut clipped: String = value.chars().take(MAX_NAME).collect();
    if clipped.len() < value.len() {
        clipped.push('…');
    }
    clipped
}

macro_rules! parse_as {
    ($($method:ident => $visit:ident: $ty:ty, $what:literal;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                visitor.$visit(self.parse::<$ty>($what)?)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Part {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.0)
    }

    parse_as! {
        deserialize_bool => visit_bool: bool, "true or false";
        deserialize_i8 => visit_i8: i8, "an integer";
        deserialize_i16 => visit_i16: i16, "an integer";
        deserialize_i32 => visit_i32: i32, "an integer";
        deserialize_i64 => visit_i64: i64, "an integer";
        deserialize_u8 => visit_u8: u8, "a non-negative integer";
        deserialize_u16 => visit_u16: u16, "a non-negative integer";
        deserialize_u32 => visit_u32: u32, "a non-negative integer";
        deserialize_u64 => visit_u64: u64, "a non-negative integer";
        deserialize_f32 => visit_f32: f32, "a number";
        deserialize_f64 => visit_f64: f64, "a number";
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct
        map struct identifier
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::stats::Interval;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Params {
        source: String,
        limit: Option<usize>,
        #[serde(default)]
        interval: Interval,
    }

    fn name_of(query: &str) -> String {
        match parse::<Params>(query) {
            Err(ApiError::InvalidParameter { name, .. }) => name,
            other => panic!("expected an invalid parameter, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn parses_numbers_enums_and_ignores_unknown_keys() {
        let p: Params = parse("source=a%20b&limit=7&interval=month&other=x").unwrap();
        assert_eq!(p.source, "a b");
        assert_eq!(p.limit, Some(7));
        assert_eq!(p.interval, Interval::Month);
    }

    #[test]
    fn errors_name_the_parameter() {
        assert_eq!(name_of("source=a&limit=abc"), "limit");
        assert_eq!(name_of("limit=-1&source=a"), "limit");
        assert_eq!(name_of("source=a&interval=year"), "interval");
        assert_eq!(name_of("limit=5"), "source");
        assert_eq!(name_of("source=a&source=b"), "source");
    }
}
