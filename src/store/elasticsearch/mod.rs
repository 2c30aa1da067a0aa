//! The scale-out store on Elasticsearch or OpenSearch, through the official client and
//! only APIs both share: versioned index templates, aliases, `_bulk` and aggregations.

pub mod client;
