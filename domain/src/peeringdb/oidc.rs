//! PeeringDB as an OpenID Connect provider: why an ID token is refused,
//! the claims a token must carry before its signature is even looked at,
//! and what `amr` says about the second factor. Pure: the server's
//! adapter decodes the token and checks the signature (openidconnect
//! crate); every decision with a name is here.

use serde_json::Value;

use crate::LoginError;

/// ID tokens may be this many seconds past `exp`, or issued this many
/// seconds in the future: clocks drift.
pub const LEEWAY_SECONDS: i64 = 60;

/// Why the ID token of a login was refused. Each has its own audit reason
/// and log message; the person sees one message ([`LoginError::PdbIdToken`])
/// because none of them is theirs to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenRefusal {
    #[error("PeeringDB's token answer carried no ID token")]
    Missing,
    #[error("the ID token is not a readable JWT: {0}")]
    Malformed(String),
    #[error("the ID token lacks the `{0}` claim")]
    MissingClaim(&'static str),
    #[error("the ID token is signed with {0}, not RS256")]
    Algorithm(String),
    #[error("the ID token has no key ID and the key set has several keys")]
    AmbiguousKey,
    #[error("no key of PeeringDB's key set signed the ID token, even after fetching it again")]
    UnknownKey,
    #[error("the ID token's signature does not verify")]
    Signature,
    #[error("the ID token's issuer is not PeeringDB's: {0}")]
    Issuer(String),
    #[error("the ID token is not meant for this portal: {0}")]
    Audience(String),
    #[error("the ID token has expired: {0}")]
    Expired(String),
    #[error("the ID token was issued in the future")]
    IssuedInFuture,
    #[error("the ID token's nonce is not this login's")]
    Nonce,
    #[error("the ID token's at_hash does not match the access token")]
    AccessTokenHash,
    #[error("the ID token's subject is not the profile's PeeringDB id")]
    Subject,
}

impl IdTokenRefusal {
    /// The reason the audit log records.
    pub fn reason(&self) -> &'static str {
        match self {
            IdTokenRefusal::Missing => "id_token_missing",
            IdTokenRefusal::Malformed(_) => "id_token_malformed",
            IdTokenRefusal::MissingClaim("sub") => "id_token_no_sub",
            IdTokenRefusal::MissingClaim("iat") => "id_token_no_iat",
            IdTokenRefusal::MissingClaim("aud") => "id_token_no_aud",
            IdTokenRefusal::MissingClaim("iss") => "id_token_no_iss",
            IdTokenRefusal::MissingClaim(_) => "id_token_missing_claim",
            IdTokenRefusal::Algorithm(_) => "id_token_algorithm",
            IdTokenRefusal::AmbiguousKey => "id_token_ambiguous_key",
            IdTokenRefusal::UnknownKey => "id_token_unknown_key",
            IdTokenRefusal::Signature => "id_token_signature",
            IdTokenRefusal::Issuer(_) => "id_token_issuer",
            IdTokenRefusal::Audience(_) => "id_token_audience",
            IdTokenRefusal::Expired(_) => "id_token_expired",
            IdTokenRefusal::IssuedInFuture => "id_token_issued_in_future",
            IdTokenRefusal::Nonce => "id_token_nonce",
            IdTokenRefusal::AccessTokenHash => "id_token_at_hash",
            IdTokenRefusal::Subject => "id_token_subject",
        }
    }

    pub fn code(&self) -> LoginError {
        LoginError::PdbIdToken
    }
}

/// The claims every ID token must carry (OpenID Connect Core §2), checked
/// on the decoded payload so that each missing one is named rather than
/// lost in a parse error. `aud` may be a string or a non-empty list.
pub fn required_claims(payload: &Value) -> Result<(), IdTokenRefusal> {
    let Some(claims) = payload.as_object() else {
        return Err(IdTokenRefusal::Malformed("the payload is not a JSON object".into()));
    };
    let present = |name: &str| claims.get(name).is_some_and(|v| !v.is_null());
    for name in ["iss", "sub"] {
        if claims.get(name).and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(IdTokenRefusal::MissingClaim(if name == "iss" { "iss" } else { "sub" }));
        }
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(list)) => !list.is_empty() && list.iter().all(Value::is_string),
        _ => false,
    };
    if !aud_ok {
        return Err(IdTokenRefusal::MissingClaim("aud"));
    }
    if !present("exp") {
        return Err(IdTokenRefusal::MissingClaim("exp"));
    }
    if !present("iat") {
        return Err(IdTokenRefusal::MissingClaim("iat"));
    }
    Ok(())
}

/// With several audiences the token must name this portal as its
/// authorized party; with one, an `azp` present must be this portal too
/// (OpenID Connect Core §3.1.3.7, steps 4 and 5).
pub fn check_authorized_party(audiences: &[&str], azp: Option<&str>, client_id: &str) -> Result<(), IdTokenRefusal> {
    match azp {
        Some(azp) if azp != client_id => Err(IdTokenRefusal::Audience(format!("authorized party `{azp}` is not this portal"))),
        None if audiences.len() > 1 => Err(IdTokenRefusal::Audience("several audiences and no authorized party".into())),
        _ => Ok(()),
    }
}

/// `iat` may be at most [`LEEWAY_SECONDS`] ahead of our clock.
pub fn check_issued_at(iat: i64, now: i64) -> Result<(), IdTokenRefusal> {
    if iat > now + LEEWAY_SECONDS {
        Err(IdTokenRefusal::IssuedInFuture)
    } else {
        Ok(())
    }
}

/// The profile must be the person the ID token is about: PeeringDB's
/// `sub` is the profile's numeric `id` as text.
pub fn check_subject(sub: &str, profile_id: i64) -> Result<(), IdTokenRefusal> {
    if sub == profile_id.to_string() {
        Ok(())
    } else {
        Err(IdTokenRefusal::Subject)
    }
}

/// Whether an `amr` list names a second factor: `mfa`, `otp` (a one-time
/// code) or `swk` (a security key), in any order.
pub fn second_factor<S: AsRef<str>>(amr: &[S]) -> bool {
    amr.iter().any(|m| matches!(m.as_ref(), "mfa" | "otp" | "swk"))
}

words! {
    /// `PEERINGDB_REQUIRE_MFA`: what a PeeringDB login without a second
    /// factor gets.
    pub enum MfaPolicy ("MFA policy") {
        /// Logins are not judged by how the person authenticated.
        Off = "off",
        /// No role above member without a second factor.
        Admins = "admins",
        /// No login at all without a second factor.
        All = "all",
    }
}

impl MfaPolicy {
    pub fn description(self) -> &'static str {
        match self {
            MfaPolicy::Off => "PeeringDB logins are not judged by how the person authenticated",
            MfaPolicy::Admins => "admin rights only for PeeringDB logins with a second factor",
            MfaPolicy::All => "PeeringDB logins without a second factor are refused",
        }
    }
}

/// What a login knows about how the person authenticated at PeeringDB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assurance {
    pub policy: MfaPolicy,
    /// `amr` named a second factor.
    pub second_factor: bool,
}

impl Assurance {
    /// Whether the policy caps every role at member for this login.
    pub fn caps_roles(self) -> bool {
        self.policy == MfaPolicy::Admins && !self.second_factor
    }

    /// Whether the policy refuses this login outright.
    pub fn refuses(self) -> bool {
        self.policy == MfaPolicy::All && !self.second_factor
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims() -> Value {
        json!({ "iss": "https://auth.peeringdb.com/oauth2", "sub": "3", "aud": "cid", "exp": 2, "iat": 1 })
    }

    #[test]
    fn a_token_with_every_required_claim_passes_the_shape_check() {
        assert_eq!(required_claims(&claims()), Ok(()));
        let mut several = claims();
        several["aud"] = json!(["cid", "other"]);
        assert_eq!(required_claims(&several), Ok(()));
    }

    #[test]
    fn each_missing_claim_is_named() {
        for (name, reason) in [("iss", "id_token_no_iss"), ("sub", "id_token_no_sub"), ("aud", "id_token_no_aud"), ("iat", "id_token_no_iat")] {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(name);
            assert_eq!(required_claims(&c).unwrap_err().reason(), reason, "{name}");
            c[name] = Value::Null;
            assert_eq!(required_claims(&c).unwrap_err().reason(), reason, "{name} null");
        }
        let mut empty_aud = claims();
        empty_aud["aud"] = json!([]);
        assert_eq!(required_claims(&empty_aud), Err(IdTokenRefusal::MissingClaim("aud")));
        assert!(matches!(required_claims(&json!([1])), Err(IdTokenRefusal::Malformed(_))));
    }

    #[test]
    fn several_audiences_need_this_portal_as_authorized_party() {
        assert_eq!(check_authorized_party(&["cid"], None, "cid"), Ok(()));
        assert_eq!(check_authorized_party(&["cid", "x"], Some("cid"), "cid"), Ok(()));
        assert!(check_authorized_party(&["cid", "x"], None, "cid").is_err());
        assert!(check_authorized_party(&["cid", "x"], Some("x"), "cid").is_err());
        assert!(check_authorized_party(&["cid"], Some("x"), "cid").is_err());
    }

    #[test]
    fn a_token_from_up_to_a_minute_in_the_future_is_allowed_for_clock_drift() {
        assert_eq!(check_issued_at(1_060, 1_000), Ok(()));
        assert_eq!(check_issued_at(1_061, 1_000), Err(IdTokenRefusal::IssuedInFuture));
        assert_eq!(check_issued_at(0, 1_000), Ok(()));
    }

    #[test]
    fn the_subject_must_be_the_profiles_id() {
        assert_eq!(check_subject("3", 3), Ok(()));
        assert_eq!(check_subject("03", 3), Err(IdTokenRefusal::Subject));
        assert_eq!(check_subject("4", 3), Err(IdTokenRefusal::Subject));
    }

    #[test]
    fn mfa_otp_and_security_keys_count_as_a_second_factor_in_any_order() {
        assert!(second_factor(&["pwd", "otp", "mfa"]));
        assert!(second_factor(&["swk", "pwd"]));
        assert!(second_factor(&["otp"]));
        assert!(!second_factor(&["pwd"]));
        assert!(!second_factor::<&str>(&[]));
        assert!(!second_factor(&["MFA"]), "amr values are case-sensitive");
    }

    #[test]
    fn the_policy_caps_or_refuses_only_logins_without_a_second_factor() {
        let without = |policy| Assurance { policy, second_factor: false };
        let with = |policy| Assurance { policy, second_factor: true };
        assert!(without(MfaPolicy::Admins).caps_roles() && !without(MfaPolicy::Admins).refuses());
        assert!(without(MfaPolicy::All).refuses());
        assert!(!without(MfaPolicy::Off).caps_roles() && !without(MfaPolicy::Off).refuses());
        for p in MfaPolicy::ALL {
            assert!(!with(*p).caps_roles() && !with(*p).refuses());
        }
    }

    #[test]
    fn every_refusal_has_its_own_audit_reason() {
        let all = [
            IdTokenRefusal::Missing,
            IdTokenRefusal::Malformed(String::new()),
            IdTokenRefusal::MissingClaim("sub"),
            IdTokenRefusal::MissingClaim("iat"),
            IdTokenRefusal::MissingClaim("aud"),
            IdTokenRefusal::MissingClaim("iss"),
            IdTokenRefusal::Algorithm(String::new()),
            IdTokenRefusal::AmbiguousKey,
            IdTokenRefusal::UnknownKey,
            IdTokenRefusal::Signature,
            IdTokenRefusal::Issuer(String::new()),
            IdTokenRefusal::Audience(String::new()),
            IdTokenRefusal::Expired(String::new()),
            IdTokenRefusal::IssuedInFuture,
            IdTokenRefusal::Nonce,
            IdTokenRefusal::AccessTokenHash,
            IdTokenRefusal::Subject,
        ];
        let reasons: std::collections::BTreeSet<_> = all.iter().map(IdTokenRefusal::reason).collect();
        assert_eq!(reasons.len(), all.len());
    }
}
