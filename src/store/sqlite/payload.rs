//! How payloads sit in the journal: zstd-compressed when that pays, as-is otherwise.
//!
//! New payloads are compressed at level 1 against a dictionary: one real GitHub
//! delivery, minified as GitHub sends them. Deliveries repeat its keys, URL templates
//! and user and repository objects, so they shrink about twice as much as with zstd
//! alone (GitHub's fixtures, minified and renamed: 6.5x without, 12x with) at about the
//! same speed, and the journal rows, WAL frames and checkpoint copies shrink with them.
//! Compression pays for itself: storing payloads as they are costs more CPU in SQLite
//! and the kernel than zstd takes. Each row keeps the encoding it was written with, so
//! rows from older versions read as before.

use std::io::Read;
use std::sync::LazyLock;

use crate::model::ContentType;
use crate::store::StoreError;

/// A row's content type: NULL is JSON (every row before schema 6).
pub fn content_type(seq: i64, stored: Option<String>) -> Result<ContentType, StoreError> {
    ContentType::from_stored(stored.as_deref())
        .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))
}

/// A payload as the events API serves it: JSON as stored, text as a JSON string.
pub fn served(
    seq: i64,
    payload: Vec<u8>,
    content_type: ContentType,
) -> Result<Box<serde_json::value::RawValue>, StoreError> {
    let text = String::from_utf8(payload)
        .map_err(|_| StoreError::Corrupt(format!("event {seq} payload is not UTF-8")))?;
    let json = match content_type {
        ContentType::Json => text,
        ContentType::Text => serde_json::to_string(&text)
            .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?,
    };
    serde_json::value::RawValue::from_string(json)
        .map_err(|_| StoreError::Corrupt(format!("event {seq} payload is not JSON")))
}

/// The JSON as received.
pub const IDENTITY: i64 = 0;
/// zstd without a dictionary (what Reckon wrote before encoding 2).
pub const ZSTD: i64 = 1;
/// zstd with `DICTIONARY_V1` as its dictionary.
pub const ZSTD_DICT_V1: i64 = 2;

/// The dictionary of encoding 2: octokit/webhooks' example `pull_request_review`
/// `submitted` delivery (MIT licence), its user and repository names made neutral,
/// minified. Never edit it: every row written with encoding 2 needs exactly these
/// bytes to decompress. A better dictionary is a new file and a new encoding.
const DICTIONARY_V1: &[u8] = include_bytes!("payload-dict-v1.json");

static DECODER_DICTIONARY_V1: LazyLock<zstd::dict::DecoderDictionary<'static>> =
    LazyLock::new(|| zstd::dict::DecoderDictionary::copy(DICTIONARY_V1));

/// Payloads smaller than this are stored as they are.
const MIN_COMPRESS: usize = 512;
/// Fast level: with the dictionary, level 3 saves 6% of the bytes for 30% more time,
/// and `--fast=1` saves 20% of the time for 11% more bytes (and WAL and checkpoint I/O).
const LEVEL: i32 = 1;

/// Encodes payloads, reusing one compression context and its loaded dictionary
/// (creating either per payload costs as much as compressing a small payload).
pub struct Encoder {
    compressor: zstd::bulk::Compressor<'static>,
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder {
            compressor: zstd::bulk::Compressor::with_dictionary(LEVEL, DICTIONARY_V1)
                .expect("zstd level 1 with a raw-content dictionary is valid"),
        }
    }

    pub fn encode(&mut self, payload: &[u8]) -> (i64, Vec<u8>) {
        if payload.len() >= MIN_COMPRESS {
            if let Ok(compressed) = self.compressor.compress(payload) {
                if compressed.len() < payload.len() {
                    return (ZSTD_DICT_V1, compressed);
                }
            }
        }
        (IDENTITY, payload.to_vec())
    }
}

#[cfg(test)]
fn encode(payload: &[u8]) -> (i64, Vec<u8>) {
    Encoder::new().encode(payload)
}

pub fn decode(seq: i64, encoding: i64, stored: Vec<u8>) -> Result<Vec<u8>, StoreError> {
    let corrupt = |e: std::io::Error| {
        StoreError::Corrupt(format!("event {seq} payload does not decompress: {e}"))
    };
    match encoding {
        IDENTITY => Ok(stored),
        ZSTD => zstd::stream::decode_all(stored.as_slice()).map_err(corrupt),
        ZSTD_DICT_V1 => {
            let mut payload = Vec::new();
            zstd::stream::read::Decoder::with_prepared_dictionary(
                stored.as_slice(),
                &DECODER_DICTIONARY_V1,
            )
            .and_then(|mut decoder| decoder.read_to_end(&mut payload))
            .map_err(corrupt)?;
            Ok(payload)
        }
        other => Err(StoreError::Corrupt(format!(
            "event {seq} has unknown payload encoding {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn round_trips_small_and_large() {
        for payload in [b"{}".to_vec(), serde_json_like(4096)] {
            let (encoding, stored) = encode(&payload);
            assert_eq!(decode(1, encoding, stored).unwrap(), payload);
        }
        let (encoding, stored) = encode(&serde_json_like(4096));
        assert_eq!(encoding, ZSTD_DICT_V1);
        assert!(stored.len() < 1024);
        assert_eq!(encode(b"{}").0, IDENTITY);
        assert!(decode(1, 7, vec![]).is_err());
        assert!(decode(1, ZSTD, b"garbage".to_vec()).is_err());
        assert!(decode(1, ZSTD_DICT_V1, b"garbage".to_vec()).is_err());
    }

    #[test]
    fn rows_of_earlier_encodings_still_read() {
        let payload = serde_json_like(4096);
        let plain_zstd = zstd::bulk::compress(&payload, 1).unwrap();
        assert_eq!(decode(1, ZSTD, plain_zstd).unwrap(), payload);
        assert_eq!(decode(1, IDENTITY, payload.clone()).unwrap(), payload);
    }

    #[test]
    fn the_dictionary_never_changes() {
        // Rows written with encoding 2 cannot be read without exactly these bytes.
        assert_eq!(DICTIONARY_V1.len(), 24_155);
        assert_eq!(
            hex::encode(Sha256::digest(DICTIONARY_V1)),
            "5b00e9b8ce2ec0273b096ad55f82b7cb66ce1e921f867af8b5fcc1f544c267d5"
        );
    }

    #[test]
    fn the_dictionary_shrinks_github_deliveries() {
        // A delivery the dictionary was not made from, minified as GitHub sends it.
        let fixture = std::fs::read(format!(
            "{}/../shared/fixtures/github-webhooks/pull_request/opened.payload.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let payload = minified(&fixture);
        let (encoding, stored) = encode(&payload);
        assert_eq!(encoding, ZSTD_DICT_V1);
        let without = zstd::bulk::compress(&payload, LEVEL).unwrap();
        assert!(
            stored.len() * 3 < without.len() * 2,
            "{} bytes with the dictionary, {} without",
            stored.len(),
            without.len()
        );
        assert_eq!(decode(1, encoding, stored).unwrap(), payload);
    }

    /// The JSON without the whitespace between tokens, keys in their order.
    fn minified(json: &[u8]) -> Vec<u8> {
        let (mut out, mut in_string, mut escaped) = (Vec::new(), false, false);
        for &b in json {
            if in_string {
                (escaped, in_string) = (!escaped && b == b'\\', escaped || b != b'"');
            } else if b.is_ascii_whitespace() {
                continue;
            } else {
                in_string = b == b'"';
            }
            out.push(b);
        }
        out
    }

    fn serde_json_like(n: usize) -> Vec<u8> {
        let mut s = String::from("{\"items\":[");
        while s.len() < n {
            s.push_str("{\"url\":\"https://api.github.com/repos/o/r\"},");
        }
        s.push_str("{}]}");
        s.into_bytes()
    }
}
