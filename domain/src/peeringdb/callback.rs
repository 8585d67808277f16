//! The PeeringDB callback as a pure state machine (RFC 9700, RFC 7636).
//!
//! A login starts as a [`Pending`] record kept server-side; the callback
//! takes it out of storage (so it works once) and [`validate_callback`]
//! decides, from it and the callback's query, whether the code may be
//! exchanged. Time is a parameter, so every refusal is a test.

use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::LoginError;

/// A pending login lives this long (the person may be typing a password and
/// an OTP at PeeringDB).
pub const PENDING_LIFETIME: Duration = Duration::minutes(10);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// ≥128 random bits, URL-safe.
    pub state: String,
    pub pkce_verifier: String,
    /// Sent in the authorization request and expected back in the ID
    /// token (`None` when ID tokens are not requested).
    pub nonce: Option<String>,
    pub next: Option<String>,
    pub created_at: OffsetDateTime,
}

/// The callback's query string, as PeeringDB sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
}

/// What may go to the token endpoint.
#[derive(Debug, PartialEq, Eq)]
pub struct Exchange {
    pub code: String,
    pub pkce_verifier: String,
    pub nonce: Option<String>,
    pub next: Option<String>,
}

/// Why a callback is refused before PeeringDB is called.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("no login was started in this browser, or it was already used")]
    NoPendingLogin,
    #[error("the callback has no state")]
    MissingState,
    #[error("the state does not match this browser's login")]
    StateMismatch,
    #[error("the login took longer than 10 minutes")]
    Expired,
    #[error("the person cancelled at PeeringDB")]
    Cancelled,
    #[error("PeeringDB answered with an error: {0}")]
    Provider(&'static str),
    #[error("the callback has no code")]
    MissingCode,
    #[error("the callback's issuer is not PeeringDB's")]
    WrongIssuer,
}

impl CallbackError {
    pub fn code(&self) -> LoginError {
        match self {
            CallbackError::NoPendingLogin | CallbackError::MissingState | CallbackError::StateMismatch => LoginError::PdbState,
            CallbackError::Expired => LoginError::PdbExpired,
            CallbackError::Cancelled => LoginError::PdbCancelled,
            CallbackError::Provider(_) | CallbackError::MissingCode => LoginError::PdbProvider,
            CallbackError::WrongIssuer => LoginError::PdbIssuer,
        }
    }
}

/// The error codes RFC 6749 §4.1.2.1 lets an authorization server send
/// back. Anything else is recorded as `other`: the provider's raw text
/// never reaches a log line or an audit row (a `%0a` in it would forge a
/// log line).
pub const PROVIDER_ERRORS: [&str; 7] = [
    "invalid_request",
    "unauthorized_client",
    "access_denied",
    "unsupported_response_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
];

/// `error` as one of [`PROVIDER_ERRORS`], or `"other"`.
pub fn provider_error(error: &str) -> &'static str {
    PROVIDER_ERRORS.iter().find(|known| **known == error).copied().unwrap_or("other")
}

/// Checks a callback against the pending login that was taken out of
/// storage for this browser (so it can never be used twice).
pub fn validate_callback(
    pending: Option<Pending>,
    query: &CallbackQuery,
    expected_issuer: &str,
    now: OffsetDateTime,
) -> Result<Exchange, CallbackError> {
    let pending = pending.ok_or(CallbackError::NoPendingLogin)?;
    let state = query.state.as_deref().ok_or(CallbackError::MissingState)?;
    if !bool::from(state.as_bytes().ct_eq(pending.state.as_bytes())) {
        return Err(CallbackError::StateMismatch);
    }
    if now - pending.created_at > PENDING_LIFETIME || now < pending.created_at - Duration::minutes(1) {
        return Err(CallbackError::Expired);
    }
    // RFC 9207: when the provider names itself, it must be the one we asked.
    if let Some(iss) = &query.iss {
        if iss != expected_issuer {
            return Err(CallbackError::WrongIssuer);
        }
    }
    if let Some(error) = &query.error {
        return Err(match provider_error(error) {
            "access_denied" => CallbackError::Cancelled,
            known => CallbackError::Provider(known),
        });
    }
    let code = query.code.clone().filter(|c| !c.is_empty()).ok_or(CallbackError::MissingCode)?;
    Ok(Exchange { code, pkce_verifier: pending.pkce_verifier, nonce: pending.nonce, next: pending.next })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://auth.peeringdb.com/oauth2";

    fn pending(at: OffsetDateTime) -> Pending {
        Pending { state: "s".repeat(32), pkce_verifier: "v".repeat(64), nonce: None, next: Some("/account".into()), created_at: at }
    }

    fn query(state: &str) -> CallbackQuery {
        CallbackQuery { code: Some("the-code".into()), state: Some(state.into()), ..Default::default() }
    }

    fn t0() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20000)
    }

    #[test]
    fn a_matching_fresh_callback_may_be_exchanged() {
        let ex = validate_callback(Some(pending(t0())), &query(&"s".repeat(32)), ISS, t0() + Duration::minutes(2)).unwrap();
        assert_eq!(ex, Exchange { code: "the-code".into(), pkce_verifier: "v".repeat(64), nonce: None, next: Some("/account".into()) });
    }

    #[test]
    fn only_rfc_6749_error_codes_are_kept_from_the_provider() {
        let with_error = |e: &str| CallbackQuery { error: Some(e.into()), ..query(&"s".repeat(32)) };
        let check = |e: &str| validate_callback(Some(pending(t0())), &with_error(e), ISS, t0());
        assert_eq!(check("access_denied"), Err(CallbackError::Cancelled));
        assert_eq!(check("server_error"), Err(CallbackError::Provider("server_error")));
        assert_eq!(check("evil\nINFO forged log line"), Err(CallbackError::Provider("other")));
        assert_eq!(check("x".repeat(10_000).as_str()), Err(CallbackError::Provider("other")));
    }

    #[test]
    fn callback_without_a_pending_login_is_refused() {
        assert_eq!(validate_callback(None, &query("x"), ISS, t0()), Err(CallbackError::NoPendingLogin));
    }

    #[test]
    fn callback_with_wrong_state_is_refused() {
        let e = validate_callback(Some(pending(t0())), &query(&"t".repeat(32)), ISS, t0());
        assert_eq!(e, Err(CallbackError::StateMismatch));
        let e = validate_callback(Some(pending(t0())), &query(""), ISS, t0());
        assert_eq!(e, Err(CallbackError::StateMismatch));
    }

    #[test]
    fn callback_without_state_is_refused() {
        let q = CallbackQuery { code: Some("c".into()), ..Default::default() };
        assert_eq!(validate_callback(Some(pending(t0())), &q, ISS, t0()), Err(CallbackError::MissingState));
    }

    #[test]
    fn callback_after_ten_minutes_is_refused() {
        let e = validate_callback(Some(pending(t0())), &query(&"s".repeat(32)), ISS, t0() + Duration::seconds(601));
        assert_eq!(e, Err(CallbackError::Expired));
    }

    #[test]
    fn cancel_at_peeringdb_is_reported_as_cancelled() {
        let q = CallbackQuery { error: Some("access_denied".into()), state: Some("s".repeat(32)), ..Default::default() };
        assert_eq!(validate_callback(Some(pending(t0())), &q, ISS, t0()), Err(CallbackError::Cancelled));
    }

    #[test]
    fn an_error_with_a_forged_state_is_a_state_error_not_a_cancel() {
        let q = CallbackQuery { error: Some("access_denied".into()), state: Some("forged".into()), ..Default::default() };
        assert_eq!(validate_callback(Some(pending(t0())), &q, ISS, t0()), Err(CallbackError::StateMismatch));
    }

    #[test]
    fn a_foreign_issuer_is_refused_and_peeringdbs_accepted() {
        let mut q = query(&"s".repeat(32));
        q.iss = Some("https://evil.example/oauth2".into());
        assert_eq!(validate_callback(Some(pending(t0())), &q, ISS, t0()), Err(CallbackError::WrongIssuer));
        q.iss = Some(ISS.into());
        assert!(validate_callback(Some(pending(t0())), &q, ISS, t0()).is_ok());
    }

    #[test]
    fn callback_without_code_is_refused() {
        let mut q = query(&"s".repeat(32));
        q.code = None;
        assert_eq!(validate_callback(Some(pending(t0())), &q, ISS, t0()), Err(CallbackError::MissingCode));
    }
}
