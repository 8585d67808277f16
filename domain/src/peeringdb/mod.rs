//! PeeringDB as an identity provider: its profile document, the callback
//! state machine, and the decisions of a login once PeeringDB has spoken.

pub mod callback;
pub mod login;
pub mod profile;
pub mod resync;

pub use callback::{validate_callback, CallbackError, CallbackQuery, Exchange, Pending, PENDING_LIFETIME};
pub use login::{Refusal, Verified};
pub use profile::Profile;

/// The scopes a login asks for.
pub const SCOPES: [&str; 4] = ["profile", "email", "networks", "amr"];
