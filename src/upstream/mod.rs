//! Clients of the upstream APIs Reckon reconciles against. Only GitHub so far; each
//! client owns its auth, rate-limit budget and conditional-request cache.

pub mod github;
