//! Writer slots: every process that writes the journal holds one of 64 slots through a
//! coordination lock and puts it into its sequence numbers, so replicas numbering
//! events in the same millisecond never hand out the same cursor.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::cluster::Cluster;
use super::reconcile::lock;
use super::ElasticsearchStore;
use crate::store::StoreError;

/// Writer slots: at most this many processes write one store at a time. Room for the
/// 20 replicas terraform allows twice over (a rolling deploy runs old and new side by
/// side) plus sync jobs and CLI commands.
pub(super) const SLOTS: i64 = 64;
/// Sequence numbers one slot has per millisecond (32,000 a second per process, above
/// what one process commits); more move on to the next millisecond.
const PER_SLOT: i64 = 32;
/// Sequence numbers per millisecond: `ms * PER_MS + slot * PER_SLOT + counter`, the
/// scale the journal has always used, so older numbers stay below newer ones.
pub(super) const PER_MS: i64 = SLOTS * PER_SLOT;
/// How long a slot's lock lasts without renewal.
const SLOT_TTL_MS: i64 = 60_000;
/// How often the renewal task renews the slot's lock: four times per lease.
const RENEW_EVERY: Duration = Duration::from_secs(15);
/// A slot numbers nothing within this long of its lease's end: by the time another
/// process may take the slot over, this one has stopped using it.
const EXPIRY_MARGIN_MS: i64 = 15_000;
// Renewals may fail twice in a row before the slot stops being used.
const _: () = assert!(EXPIRY_MARGIN_MS + 2 * (RENEW_EVERY.as_secs() as i64) * 1000 < SLOT_TTL_MS);

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The lock that holds `slot`.
pub(super) fn lock_name(slot: i64) -> String {
    format!("elasticsearch/writer-slot/{slot}")
}

/// The smallest sequence number above `last` that lies in `slot` and no earlier than
/// millisecond `floor_ms`. A full slot moves on to the next (virtual) millisecond.
pub(super) fn seq_after(last: i64, floor_ms: i64, slot: i64) -> i64 {
    let lo = slot * PER_SLOT;
    let base = floor_ms.max(0).saturating_mul(PER_MS).saturating_add(lo);
    if base > last {
        return base;
    }
    let next = last + 1;
    let (ms, within) = (next.div_euclid(PER_MS), next.rem_euclid(PER_MS));
    if within < lo {
        ms * PER_MS + lo
    } else if within < lo + PER_SLOT {
        next
    } else {
        (ms + 1) * PER_MS + lo
    }
}

/// The slot a sequence number was written under.
pub fn slot_of(seq: i64) -> i64 {
    seq.rem_euclid(PER_MS) / PER_SLOT
}

#[derive(Debug, Clone, Copy)]
struct Lease {
    slot: i64,
    /// When the lock runs out unless renewed (ms), counted from before the request.
    until: i64,
}

impl Lease {
    fn usable(&self, now: i64) -> bool {
        now < self.until - EXPIRY_MARGIN_MS
    }
}

/// This process's slot, if it holds one, and the task that keeps it.
#[derive(Default)]
pub(super) struct Slots {
    lease: Arc<Mutex<Option<Lease>>>,
    /// One claim at a time: concurrent batches wait for it instead of taking two slots.
    claiming: tokio::sync::Mutex<()>,
    /// Dropped with the store, which stops the renewal task and releases the slot.
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl Slots {
    fn usable(&self, now: i64) -> Option<i64> {
        let lease = self.lease.lock().unwrap_or_else(|p| p.into_inner());
        lease.filter(|l| l.usable(now)).map(|l| l.slot)
    }

    fn held(&self) -> Option<i64> {
        let lease = self.lease.lock().unwrap_or_else(|p| p.into_inner());
        lease.map(|l| l.slot)
    }

    fn set(&self, lease: Lease) {
        *self.lease.lock().unwrap_or_else(|p| p.into_inner()) = Some(lease);
    }
}

impl ElasticsearchStore {
    /// The slot this process numbers events in, claimed on first use and again when the
    /// lease was lost or is about to run out. Never a slot this process does not hold.
    pub(super) async fn writer_slot(&self) -> Result<i64, StoreError> {
        if let Some(slot) = self.slots.usable(now_ms()) {
            return Ok(slot);
        }
        let _claiming = self.slots.claiming.lock().await;
        if let Some(slot) = self.slots.usable(now_ms()) {
            return Ok(slot);
        }
        let index = self.names.alias("state");
        // The slot held before first: its lock may still be ours.
        let previous = self.slots.held();
        let order = previous
            .into_iter()
            .chain((0..SLOTS).filter(|s| Some(*s) != previous));
        for slot in order {
            let started = now_ms();
            if lock(
                &self.cluster,
                &index,
                &lock_name(slot),
                &self.owner,
                SLOT_TTL_MS,
            )
            .await?
            {
                self.slots.set(Lease {
                    slot,
                    until: started + SLOT_TTL_MS,
                });
                self.start_renewal(index);
                tracing::info!(slot, holder = %self.owner, "claimed an elasticsearch writer slot");
                return Ok(slot);
            }
        }
        Err(StoreError::TooManyWriters { slots: SLOTS })
    }

    /// Gives the writer slot back (at shutdown, once nothing writes), so another process
    /// can take it at once instead of after its lease runs out. A later write claims a
    /// slot again.
    pub async fn release_writer_slot(&self) {
        let _claiming = self.slots.claiming.lock().await;
        let held = self
            .slots
            .lease
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(lease) = held {
            release(
                &self.cluster,
                &self.names.alias("state"),
                &self.owner,
                lease,
            )
            .await;
        }
    }

    /// Starts the task renewing the slot's lock, once per store.
    fn start_renewal(&self, index: String) {
        let mut stop = self.slots.stop.lock().unwrap_or_else(|p| p.into_inner());
        if stop.is_some() {
            return;
        }
        let (tx, rx) = oneshot::channel();
        *stop = Some(tx);
        let renewal = Renewal {
            cluster: self.cluster.clone(),
            index,
            holder: self.owner.clone(),
            lease: self.slots.lease.clone(),
        };
        tokio::spawn(renewal.run(rx));
    }
}

/// Keeps a store's slot: renews its lock every `RENEW_EVERY`, forgets a slot another
/// process took over (the next write claims a new one), and releases it when the store
/// is dropped.
struct Renewal {
    cluster: Cluster,
    index: String,
    holder: String,
    lease: Arc<Mutex<Option<Lease>>>,
}

impl Renewal {
    async fn run(self, mut stop: oneshot::Receiver<()>) {
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(RENEW_EVERY) => self.renew().await,
            }
        }
        let held = self.lease.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(lease) = held {
            release(&self.cluster, &self.index, &self.holder, lease).await;
        }
    }

    async fn renew(&self) {
        let held = *self.lease.lock().unwrap_or_else(|p| p.into_inner());
        let Some(lease) = held else { return };
        let started = now_ms();
        let name = lock_name(lease.slot);
        let renewed = lock(&self.cluster, &self.index, &name, &self.holder, SLOT_TTL_MS).await;
        let mut current = self.lease.lock().unwrap_or_else(|p| p.into_inner());
        if current.map(|l| l.slot) != Some(lease.slot) {
            return;
        }
        match renewed {
            Ok(true) => {
                *current = Some(Lease {
                    slot: lease.slot,
                    until: started + SLOT_TTL_MS,
                })
            }
            Ok(false) => {
                *current = None;
                tracing::warn!(slot = lease.slot, "another process took over the elasticsearch writer slot; the next write claims another");
            }
            Err(error) => {
                tracing::warn!(slot = lease.slot, until = lease.until, error = %crate::telemetry::chain(&error), "could not renew the elasticsearch writer slot; it stays in use until shortly before its lease ends");
            }
        }
    }
}

/// Ends `lease` now: a lock of 0 ms is free for the next process at once.
async fn release(cluster: &Cluster, index: &str, holder: &str, lease: Lease) {
    match lock(cluster, index, &lock_name(lease.slot), holder, 0).await {
        Ok(_) => tracing::info!(slot = lease.slot, "released the elasticsearch writer slot"),
        Err(error) => {
            tracing::warn!(slot = lease.slot, error = %crate::telemetry::chain(&error), "could not release the elasticsearch writer slot; it expires on its own")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_767_225_600_000;

    #[test]
    fn slot_and_counter_sit_below_the_millisecond() {
        let first = seq_after(0, MS, 5);
        assert_eq!(first, MS * 2048 + 5 * 32);
        assert_eq!(seq_after(first, MS, 5), first + 1);
        assert_eq!(slot_of(first), 5);
        assert_eq!(slot_of(first + 31), 5);
        assert_eq!(slot_of(first + 32), 6);
        assert_eq!(first / 2048, MS, "the millisecond is where it always was");
        // Slot 0 numbers exactly as before slots existed, for a first event.
        assert_eq!(seq_after(0, MS, 0), MS * 2048);
    }

    #[test]
    fn a_full_slot_moves_on_to_the_next_millisecond() {
        let last = MS * 2048 + 5 * 32 + 31;
        let next = seq_after(last, MS, 5);
        assert_eq!(next, (MS + 1) * 2048 + 5 * 32);
        assert_eq!(slot_of(next), 5);
        // The last slot's overflow also lands in the next millisecond, not the next slot.
        let last = MS * 2048 + 63 * 32 + 31;
        assert_eq!(seq_after(last, MS, 63), (MS + 1) * 2048 + 63 * 32);
    }

    #[test]
    fn numbers_grow_within_a_process_whatever_the_clock_and_slot_do() {
        let mut last = 0;
        let floors = [MS, MS, MS - 10, MS + 3, MS + 3, MS - 1_000, MS + 4];
        for (i, floor) in floors.iter().cycle().take(5_000).enumerate() {
            // The slot changes now and then, as after a lost lease.
            let slot = (i as i64 / 700) % SLOTS;
            let seq = seq_after(last, *floor, slot);
            assert!(seq > last, "{seq} after {last}");
            assert_eq!(slot_of(seq), slot);
            assert!(seq >= floor * 2048);
            last = seq;
        }
    }

    #[test]
    fn two_slots_in_the_same_millisecond_never_collide() {
        let run = |slot| {
            let mut last = 0;
            (0..1_000)
                .map(|_| {
                    last = seq_after(last, MS, slot);
                    last
                })
                .collect::<std::collections::HashSet<i64>>()
        };
        for (a, b) in [(0, 1), (3, 31), (30, 31)] {
            let (a, b) = (run(a), run(b));
            assert_eq!(a.len(), 1_000);
            assert!(a.is_disjoint(&b));
        }
    }

    #[test]
    fn a_lease_stops_being_used_before_it_ends() {
        let lease = Lease {
            slot: 1,
            until: 100_000,
        };
        assert!(lease.usable(100_000 - EXPIRY_MARGIN_MS - 1));
        assert!(!lease.usable(100_000 - EXPIRY_MARGIN_MS));
    }
}
