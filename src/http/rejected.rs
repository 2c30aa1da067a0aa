//! Recently rejected deliveries, kept in memory only: bad input changes nothing in the
//! store, yet the delivery log can still show what was turned away and why.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::stats::{DeliveryQuery, DeliveryRecord};

pub struct RejectedLog {
    entries: Mutex<VecDeque<DeliveryRecord>>,
    capacity: usize,
    /// Rejections ever pushed, so the live delivery log notices new ones.
    pushed: AtomicU64,
}

impl RejectedLog {
    pub fn new(capacity: usize) -> Self {
        RejectedLog {
            entries: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
            pushed: AtomicU64::new(0),
        }
    }

    /// How many rejections were ever pushed.
    pub fn pushed(&self) -> u64 {
        self.pushed.load(Ordering::Relaxed)
    }

    pub fn push(&self, record: DeliveryRecord) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(record);
        self.pushed.fetch_add(1, Ordering::Relaxed);
    }

    /// Matching entries, newest first.
    pub fn matching(&self, query: &DeliveryQuery) -> Vec<DeliveryRecord> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .rev()
            .filter(|r| {
                query.source.as_ref().is_none_or(|s| &r.source == s)
                    && query.kind.as_ref().is_none_or(|k| &r.event == k)
            })
            .take(query.limit)
            .cloned()
            .collect()
    }
}
