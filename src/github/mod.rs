//! GitHub specifics: the few payload fields Reckon projects, decoded leniently, and
//! the projection from a delivery to versioned entity writes.

pub mod payload;
pub mod project;

pub use project::project;
