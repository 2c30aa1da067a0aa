//! How payloads sit in the journal: zstd-compressed when that pays (GitHub JSON shrinks
//! about sevenfold, which cuts WAL and checkpoint I/O in proportion), as-is otherwise.

use crate::store::StoreError;

pub const IDENTITY: i64 = 0;
pub const ZSTD: i64 = 1;

/// Payloads smaller than this are stored as they are.
const MIN_COMPRESS: usize = 512;
/// Fast level: most of the ratio at a fraction of the cost of higher levels.
const LEVEL: i32 = 1;

/// Encodes payloads, reusing one compression context (creating one per payload costs
/// as much as compressing a small one).
pub struct Encoder {
    compressor: zstd::bulk::Compressor<'static>,
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder {
            compressor: zstd::bulk::Compressor::new(LEVEL).expect("zstd level 1 is valid"),
        }
    }

    pub fn encode(&mut self, payload: &[u8]) -> (i64, Vec<u8>) {
        if payload.len() >= MIN_COMPRESS {
            if let Ok(compressed) = self.compressor.compress(payload) {
                if compressed.len() < payload.len() {
                    return (ZSTD, compressed);
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
    match encoding {
        IDENTITY => Ok(stored),
        ZSTD => zstd::stream::decode_all(stored.as_slice()).map_err(|e| {
            StoreError::Corrupt(format!("event {seq} payload does not decompress: {e}"))
        }),
        other => Err(StoreError::Corrupt(format!(
            "event {seq} has unknown payload encoding {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_small_and_large() {
        for payload in [b"{}".to_vec(), serde_json_like(4096)] {
            let (encoding, stored) = encode(&payload);
            assert_eq!(decode(1, encoding, stored).unwrap(), payload);
        }
        let (encoding, stored) = encode(&serde_json_like(4096));
        assert_eq!(encoding, ZSTD);
        assert!(stored.len() < 1024);
        assert!(decode(1, 7, vec![]).is_err());
        assert!(decode(1, ZSTD, b"garbage".to_vec()).is_err());
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
