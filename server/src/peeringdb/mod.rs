//! Everything about PeeringDB as an OAuth2 provider.

pub mod client;
pub mod flow;
pub mod login;
pub mod profile;
