//! GitHub specifics: the few payload fields Reckon projects, decoded leniently, and
//! the projection from a delivery to versioned entity writes.

pub mod payload;
pub mod project;

pub use project::project;

use crate::model::EntityWrite;
use crate::store::RawEvent;

/// The source name GitHub deliveries are stored under.
pub const SOURCE: &str = "github";

/// The entity writes of a stored event, as intake derived them when it arrived: GitHub
/// events are decoded and projected, sync envelopes give back their writes; payloads of
/// another shape and other sources, none.
pub fn project_stored(event: &RawEvent) -> Vec<EntityWrite> {
    if event.source == crate::sync::SOURCE {
        return crate::sync::project_stored(event);
    }
    if event.source != SOURCE {
        return Vec::new();
    }
    serde_json::from_slice::<payload::Payload>(&event.payload)
        .map(|p| project(&event.kind, &p, event.received_at))
        .unwrap_or_default()
}
