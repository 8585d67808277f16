//! PeerPortal's rules, behind a wall: no database, no HTTP, no clock, no
//! randomness. The server and the browser bundle both build on it, so the
//! words the portal uses (roles, sources, customer kinds, audit events, login
//! error codes) have one spelling, and every rule is a unit or property test.
//!
//! `docs/design.md` says which crate may depend on which.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

#[macro_use]
mod vocabulary;

pub mod audit;
pub mod customer;
pub mod grants;
pub mod invitation;
pub mod ixf;
pub mod login;
pub mod mail;
pub mod net;
pub mod peeringdb;
pub mod session;
pub mod throttle;
pub mod two_factor;
pub mod user;

pub use audit::{Actor, AuditEvent};
pub use customer::{Asn, CustomerKind, CustomerName, CustomerStatus, Shortname};
pub use grants::{Role, RolePolicy, Source};
pub use login::{LoginError, LoginMethod};
pub use user::{CreatedVia, Email, Username};
pub use vocabulary::UnknownValue;
