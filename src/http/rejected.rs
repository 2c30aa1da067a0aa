//! Recently rejected deliveries, kept in memory only: bad input changes nothing in the
//! store, yet the delivery log can still show what was turned away and why.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::stats::{DeliveryQuery, DeliveryRecord};

pub struct RejectedLog {
    entries: Mutex<VecDeque<(i64, DeliveryRecord)>>,
    capacity: usize,
}

impl RejectedLog {
    pub fn new(capacity: usize) -> Self {
        RejectedLog {
            entries: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
        }
    }

    pub fn push(&self, received_at: i64, record: DeliveryRecord) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back((received_at, record));
    }

    /// Matching entries, newest first, as (received_at ms, record).
    pub fn matching(&self, query: &DeliveryQuery) -> Vec<(i64, DeliveryRecord)> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .rev()
            .filter(|(_, r)| {
                query.source.as_ref().is_none_or(|s| &r.source == s)
                    && query.kind.as_ref().is_none_or(|k| &r.event == k)
            })
            .take(query.limit)
            .cloned()
            .collect()
    }
}
