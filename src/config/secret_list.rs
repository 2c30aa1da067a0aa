//! A list of secrets that may be written as a TOML array or as one comma-separated
//! string (`RECKON_GITHUB_WEBHOOK_SECRET="new,old"`), held so that it never prints.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::ConfigError;

#[derive(Clone, Default)]
pub struct SecretList(Vec<SecretString>);

impl SecretList {
    pub fn new(secrets: Vec<SecretString>) -> Self {
        SecretList(secrets)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &SecretString> {
        self.0.iter()
    }

    pub(crate) fn check_not_blank(&self, key: &str) -> Result<(), ConfigError> {
        match self
            .0
            .iter()
            .position(|s| s.expose_secret().trim().is_empty())
        {
            Some(i) => Err(ConfigError::invalid(
                format!("{key}[{i}]"),
                "secrets must not be blank",
            )),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for SecretList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{} secret(s) redacted]", self.0.len())
    }
}

fn split(value: &str) -> Vec<SecretString> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_owned()))
        .collect()
}

impl<'de> Deserialize<'de> for SecretList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = SecretList;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of strings or one comma-separated string")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretList, E> {
                Ok(SecretList(split(v)))
            }

            // Environment values that look like numbers arrive as numbers.
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SecretList, E> {
                Ok(SecretList(split(&v.to_string())))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SecretList, E> {
                Ok(SecretList(split(&v.to_string())))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SecretList, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<SecretString>()? {
                    out.push(item);
                }
                Ok(SecretList(out))
            }
        }

        deserializer.deserialize_any(ListVisitor)
    }
}
