//! Server functions, grouped by area. Each checks the caller's rights on the
//! server; the browser's view of who may do what is only a convenience.

pub mod account;
pub mod auth;
pub mod console;
