//! Logging in: the methods, where a person may be sent afterwards, and
//! every reason a login can fail, with the sentence `/login` shows for it.

words! {
    /// How a person proved who they are.
    pub enum LoginMethod ("login method") {
        Password = "password",
        Peeringdb = "peeringdb",
    }
}
serde_as_word!(LoginMethod);

words! {
    /// Why a login did not succeed: the code travels as `/login?error=…`
    /// (a plain form post, or the redirect back from PeeringDB) and the
    /// page turns it into [`LoginError::message`].
    pub enum LoginError ("login error") {
        BadCredentials = "bad_credentials",
        WrongCode = "wrong_code",
        Disabled = "disabled",
        Throttled = "throttled",
        Busy = "busy",
        Invalid = "invalid",
        Unauthenticated = "unauthenticated",
        SessionEnded = "session_ended",
        Internal = "internal",
        PdbCancelled = "pdb_cancelled",
        PdbState = "pdb_state",
        PdbExpired = "pdb_expired",
        PdbIssuer = "pdb_issuer",
        PdbProvider = "pdb_provider",
        PdbInvalidGrant = "pdb_invalid_grant",
        PdbConfig = "pdb_config",
        PdbForbidden = "pdb_forbidden",
        PdbRateLimited = "pdb_rate_limited",
        PdbUnavailable = "pdb_unavailable",
        PdbTimeout = "pdb_timeout",
        PdbMalformed = "pdb_malformed",
        PdbUserNotVerified = "pdb_user_not_verified",
        PdbEmailNotVerified = "pdb_email_not_verified",
        PdbNoEmail = "pdb_no_email",
        PdbSuperadmin = "pdb_superadmin",
        PdbDisabled = "pdb_disabled",
        PdbUserOptedOut = "pdb_user_opted_out",
        PdbCustomerOptedOut = "pdb_customer_opted_out",
        PdbNoCustomer = "pdb_no_customer",
        PdbIdToken = "pdb_id_token",
        PdbDiscovery = "pdb_discovery",
        PdbMfaRequired = "pdb_mfa_required",
    }
}

/// For a code nobody sent on purpose: never echo the URL's text.
pub const GENERIC_LOGIN_ERROR: &str = "The login did not succeed. Please try again.";

impl LoginError {
    pub fn message(self) -> &'static str {
        match self {
            LoginError::BadCredentials => "That username and password do not match an active account.",
            LoginError::WrongCode => {
                "That code is not right, or it was used already. Please enter the next code from your app, or a recovery code."
            }
            LoginError::Disabled | LoginError::PdbDisabled => "This account is disabled. Please contact the exchange's support team.",
            LoginError::Throttled => "Too many login attempts. Please wait a few minutes and try again.",
            LoginError::Busy => "The portal is busy checking other logins. Please try again in a moment.",
            LoginError::Invalid => "Please fill in both your username and your password.",
            LoginError::Unauthenticated => "Please log in first.",
            LoginError::SessionEnded => "Your session has ended. Please log in again.",
            LoginError::Internal => GENERIC_LOGIN_ERROR,
            LoginError::PdbCancelled => "You cancelled the login at PeeringDB.",
            LoginError::PdbState => "That PeeringDB login could not be matched to this browser (it was already used, or started elsewhere). Please start again.",
            LoginError::PdbExpired => "The PeeringDB login took too long. Please start again.",
            LoginError::PdbIssuer => "The answer did not come from PeeringDB. Please start again.",
            LoginError::PdbProvider => "PeeringDB could not complete the login. Please try again.",
            LoginError::PdbInvalidGrant => "PeeringDB refused the login code (it expired or was already used). Please start again.",
            LoginError::PdbConfig => "PeeringDB refused this portal's credentials. Please tell the exchange's support team.",
            LoginError::PdbForbidden => "PeeringDB did not share your profile with us. Please start again and approve the request.",
            LoginError::PdbRateLimited => "PeeringDB is limiting requests right now. Please wait a minute and try again.",
            LoginError::PdbUnavailable => "PeeringDB is not answering properly right now. Please try again later or use your password.",
            LoginError::PdbTimeout => "PeeringDB took too long to answer. Please try again later or use your password.",
            LoginError::PdbMalformed => "PeeringDB sent an answer we could not read. Please try again later.",
            LoginError::PdbUserNotVerified => "Your PeeringDB account is not verified yet. Once PeeringDB has approved it, try again.",
            LoginError::PdbEmailNotVerified => "Your email address is not confirmed at PeeringDB. Confirm it there, then try again.",
            LoginError::PdbNoEmail => "PeeringDB did not share an email address. Please allow the email scope and try again.",
            LoginError::PdbSuperadmin => "Administrator accounts cannot log in with PeeringDB. Please use your password.",
            LoginError::PdbUserOptedOut => "You switched off PeeringDB login for your account. Please use your password.",
            LoginError::PdbCustomerOptedOut => {
                "Your organisation has switched off PeeringDB login at this exchange. Please ask your colleagues for an account."
            }
            LoginError::PdbNoCustomer => "None of your PeeringDB networks is a member of this exchange.",
            LoginError::PdbIdToken => {
                "PeeringDB's signed statement of who you are did not check out, so you were not logged in. \
                 Please try again; if it happens again, tell the exchange's support team."
            }
            LoginError::PdbDiscovery => {
                "PeeringDB's OpenID Connect settings do not match this portal's. Please tell the exchange's support team."
            }
            LoginError::PdbMfaRequired => {
                "This exchange needs you to log in to PeeringDB with a second factor (an authenticator app or a security key). \
                 Turn it on in your PeeringDB profile, log out of PeeringDB, and log in with it, then try again."
            }
        }
    }
}

impl LoginError {
    /// What the person can do about a refusal, where there is more to say
    /// than the message: whom to ask, and for what.
    pub fn next_step(self) -> Option<&'static str> {
        Some(match self {
            LoginError::PdbNoCustomer => {
                "If your organisation is a member here, ask its administrator at PeeringDB to add you to the network that holds its ASN, \
                 or ask a colleague who has access here to invite you."
            }
            LoginError::PdbCustomerOptedOut => "Ask a colleague who administers your organisation's access here to invite you.",
            LoginError::PdbUserNotVerified => "PeeringDB approves new accounts by hand, which can take a day or two.",
            LoginError::PdbEmailNotVerified => "PeeringDB sends a confirmation link to your address; open it, then log in again.",
            LoginError::Disabled | LoginError::PdbDisabled | LoginError::PdbConfig | LoginError::PdbDiscovery => {
                "Write to the exchange's support team, who can look into it."
            }
            LoginError::BadCredentials => "Accounts made through PeeringDB have no password here: they use “Login with PeeringDB”.",
            _ => return None,
        })
    }
}

/// The sentence for a `/login?error=code&…` URL. `asns` and `retry` are the
/// extras some codes carry; only digits are taken from them.
pub fn login_error_text(code: &str, asns: Option<&str>, retry: Option<&str>) -> String {
    let Ok(error) = LoginError::parse(code) else {
        return GENERIC_LOGIN_ERROR.to_string();
    };
    match error {
        LoginError::PdbNoCustomer => no_customer_message(asns.unwrap_or_default()),
        LoginError::PdbRateLimited => match retry.and_then(|r| r.parse::<u32>().ok()) {
            Some(secs) => format!("PeeringDB is limiting requests right now. Please try again in {secs} seconds."),
            None => error.message().to_string(),
        },
        other => other.message().to_string(),
    }
}

/// What to do next after the refusal with this code, if anything.
pub fn login_error_next_step(code: &str) -> Option<&'static str> {
    LoginError::parse(code).ok().and_then(LoginError::next_step)
}

/// The "no matching customer" message with the ASNs PeeringDB listed.
fn no_customer_message(asns: &str) -> String {
    let asns: Vec<String> = asns
        .split(',')
        .filter(|a| !a.is_empty() && a.len() <= 10 && a.bytes().all(|b| b.is_ascii_digit()))
        .map(|a| format!("AS{a}"))
        .take(100)
        .collect();
    if asns.is_empty() {
        LoginError::PdbNoCustomer.message().to_string()
    } else {
        format!("None of your PeeringDB networks — {} — is a member of this exchange.", asns.join(", "))
    }
}

/// Accepts `next` only as a same-site relative path, so a login link can
/// never bounce the person to another site (open redirect). Anything doubtful
/// is dropped rather than repaired.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.contains("://")
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        // "/login" itself would loop.
        && !next.starts_with("/login")
        && next.len() <= 512;
    ok.then_some(next)
}

/// Percent-encodes a query component (for `next`, already validated).
pub fn encode_query_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_accepts_same_site_paths() {
        assert_eq!(safe_next("/"), Some("/"));
        assert_eq!(safe_next("/choose?x=1"), Some("/choose?x=1"));
        assert_eq!(safe_next("/admin/users/3"), Some("/admin/users/3"));
    }

    #[test]
    fn next_refuses_anything_that_could_leave_the_site() {
        for bad in [
            "",
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "/redirect?to=https://evil.example",
            "evil.example/path",
            "/\tevil",
            "/ evil",
            "/login",
            "/login?next=/",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?} must be refused");
        }
    }

    #[test]
    fn unknown_error_codes_do_not_echo_their_text() {
        assert_eq!(login_error_text("<script>alert(1)</script>", None, None), GENERIC_LOGIN_ERROR);
    }

    #[test]
    fn every_code_has_its_own_sentence_except_the_two_spellings_of_disabled() {
        let mut seen = std::collections::HashMap::new();
        for e in LoginError::ALL {
            if let Some(other) = seen.insert(e.message(), *e) {
                assert!(
                    matches!((other, *e), (LoginError::Disabled, LoginError::PdbDisabled)),
                    "{other} and {e} say the same"
                );
            }
        }
    }

    #[test]
    fn no_customer_names_the_asns_and_takes_only_digits() {
        assert_eq!(
            login_error_text("pdb_no_customer", Some("64500,64501"), None),
            "None of your PeeringDB networks — AS64500, AS64501 — is a member of this exchange."
        );
        assert_eq!(login_error_text("pdb_no_customer", Some("<b>,x"), None), LoginError::PdbNoCustomer.message());
    }

    #[test]
    fn a_rate_limit_says_when_to_retry() {
        assert_eq!(
            login_error_text("pdb_rate_limited", None, Some("42")),
            "PeeringDB is limiting requests right now. Please try again in 42 seconds."
        );
        assert_eq!(login_error_text("pdb_rate_limited", None, Some("soon")), LoginError::PdbRateLimited.message());
    }
}
