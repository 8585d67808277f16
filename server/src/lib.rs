//! PeerPortal's server: the use cases (`portal`) and the adapters around
//! them — web (`web`), database (`store`), PeeringDB (`peeringdb`), SMTP
//! (`mail`) and the command line (`cli`). The rules themselves live in the `domain` crate;
//! `docs/design.md` draws the whole shape.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod backup;
pub mod cli;
pub mod charts;
pub mod config;
pub mod fetch;
pub mod keys;
pub mod mail;
pub mod metrics;
pub mod password;
pub mod peeringdb;
pub mod portal;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
