//! Reckon's integration tests, as one test binary: one module per area below, and the
//! shared harness (the app on port 0, the Elasticsearch, GitHub and ECS stand-ins, moto)
//! compiled once for all of them. Run one area with `cargo test --test it <module>::`,
//! e.g. `cargo test --test it es_contract::`.
//!
//! Every test runs in this one process, on parallel threads: a test must not change
//! process-wide state (the environment, the working directory, a global subscriber) or
//! use fixed ports or paths. What must be process-wide is set once, in the harness
//! (see `moto::sdk_default_chain_credentials`).

// The shared harness.
mod common;
#[path = "aws/ecs_stub.rs"]
mod ecs_stub;
mod es_standin;
mod github_standin;
#[path = "aws/moto.rs"]
mod moto;

// The tests.
mod access;
mod api;
mod aws;
mod cli;
mod contract;
mod coordination_conformance;
mod dashboard;
mod durability;
mod es_client;
mod es_contract;
mod es_limits;
mod es_medians;
mod es_store;
mod es_writers;
mod github_read_model_conformance;
mod github_webhooks;
mod heartbeats;
mod heartbeats_store;
mod hostile;
mod journal_conformance;
mod journal_content;
mod keys_conformance;
mod logs;
mod mutations;
mod pageviews;
mod pageviews_store;
mod projections;
mod queue_conformance;
mod reconcile;
mod reconcile_cli;
mod reindex;
mod server_events;
mod server_events_store;
mod source_schema;
mod sources;
mod store_conformance;
mod store_failure;
