//! The one error type the UI sees. The server logs the cause; the person
//! gets a fixed, friendly sentence and the UI can match on the variant.

use serde::{Deserialize, Serialize};
use server_fn::{codec::JsonEncoding, error::FromServerFnError, ServerFnError};

use leptos::server_fn;

use crate::LoginError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please log in first.")]
    Unauthenticated,
    #[error("You are not allowed to do that.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Conflict(String),
    /// One message for unknown user, wrong password and no password set, so
    /// the answer does not tell which usernames exist.
    #[error("That username and password do not match an active account.")]
    BadCredentials,
    /// Only said after the right password was given, so it reveals nothing.
    #[error("This account is disabled. Please contact the exchange's support team.")]
    AccountDisabled,
    #[error("Too many login attempts. Please wait {minutes} minute(s) and try again.")]
    Throttled { minutes: u32 },
    /// Every password-check slot stayed busy: try again in a moment.
    #[error("The portal is busy checking other logins. Please try again in a moment.")]
    Busy,
    /// A one-time code or recovery code that is wrong, or was used already.
    #[error("That code is not right, or it was used already. Please enter the next code from your app, or a recovery code.")]
    WrongCode,
    /// The exchange requires two-factor of this account: it comes first.
    #[error("Please set up two-factor authentication first (your account page, Two-factor).")]
    TwoFactorRequired,
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// Raised in the browser when the server could not be reached at all.
    #[error("The portal could not be reached ({0}). Check your connection and try again.")]
    Transport(String),
}

impl AppError {
    /// The code carried in `/login?error=…` when the login form was posted
    /// without JavaScript. A login fails only in the first five ways; the
    /// rest read as "did not succeed".
    pub fn login_error(&self) -> LoginError {
        match self {
            AppError::Unauthenticated => LoginError::Unauthenticated,
            AppError::BadCredentials => LoginError::BadCredentials,
            AppError::AccountDisabled => LoginError::Disabled,
            AppError::Throttled { .. } => LoginError::Throttled,
            AppError::Busy => LoginError::Busy,
            AppError::Validation(_) => LoginError::Invalid,
            AppError::WrongCode => LoginError::WrongCode,
            AppError::TwoFactorRequired
            | AppError::Forbidden | AppError::NotFound | AppError::Conflict(_) | AppError::Internal | AppError::Transport(_) => {
                LoginError::Internal
            }
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        use server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Request(e) => AppError::Transport(e),
            E::Args(e) | E::MissingArg(e) => AppError::Validation(format!("The form was incomplete: {e}")),
            _ => AppError::Internal,
        }
    }
}

impl From<ServerFnError> for AppError {
    fn from(_: ServerFnError) -> Self {
        AppError::Internal
    }
}
