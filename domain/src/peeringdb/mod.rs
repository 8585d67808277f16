//! PeeringDB as an identity provider: its profile document, the callback
//! state machine, and the decisions of a login once PeeringDB has spoken.

pub mod callback;
pub mod login;
pub mod oidc;
pub mod profile;
pub mod resync;

pub use callback::{validate_callback, CallbackError, CallbackQuery, Exchange, Pending, PENDING_LIFETIME};
pub use login::{Refusal, Verified};
pub use profile::Profile;

/// The scopes a login asks for; `openid` too when ID tokens are checked.
pub fn scopes(oidc: bool) -> &'static [&'static str] {
    if oidc {
        &["openid", "profile", "email", "networks", "amr"]
    } else {
        &["profile", "email", "networks", "amr"]
    }
}
