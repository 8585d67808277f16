//! Everything about PeeringDB as an OAuth2 provider.

pub mod flow;
pub mod profile;
