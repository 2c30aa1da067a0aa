//! A bounded cache of GET responses by credential and URL, with their ETags, so the
//! client can send `If-None-Match` and answer a 304 (which costs no quota) from it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;

#[derive(Debug, Clone)]
pub struct Cached {
    pub etag: String,
    pub body: Bytes,
    pub next: Option<String>,
}

/// First in, first out once full: the reconciler revisits the same URLs every run,
/// so recency tracking would buy little.
pub struct EtagCache {
    capacity: usize,
    inner: Mutex<(HashMap<String, Cached>, VecDeque<String>)>,
}

impl EtagCache {
    pub fn new(capacity: usize) -> EtagCache {
        EtagCache {
            capacity,
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    pub fn get(&self, key: &str) -> Option<Cached> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.0.get(key).cloned()
    }

    pub fn put(&self, key: String, etag: String, body: Bytes, next: Option<String>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *inner;
        if map
            .insert(key.clone(), Cached { etag, body, next })
            .is_none()
        {
            order.push_back(key);
            while order.len() > self.capacity {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_oldest_beyond_capacity() {
        let cache = EtagCache::new(2);
        for k in ["a", "b", "c"] {
            cache.put(
                k.into(),
                format!("\"{k}\""),
                Bytes::from_static(b"{}"),
                None,
            );
        }
        assert!(cache.get("a").is_none());
        assert_eq!(cache.get("c").unwrap().etag, "\"c\"");
        cache.put("b".into(), "\"b2\"".into(), Bytes::new(), None);
        assert_eq!(cache.get("b").unwrap().etag, "\"b2\"");
        assert!(cache.get("c").is_some());
    }
}
