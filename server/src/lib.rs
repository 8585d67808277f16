//! PeerPortal's server: configuration, database, sessions, the backend of
//! the server functions, the HTTP router and the command line.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod backend;
pub mod cli;
pub mod config;
pub mod console;
pub mod console_store;
pub mod db;
pub mod grants;
pub mod import;
pub mod password;
pub mod peeringdb;
pub mod sessions;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod throttle;
