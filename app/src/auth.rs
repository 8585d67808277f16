//! Pure helpers of the login flow shared by server and browser.

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

/// The message shown on `/login` for an `?error=` code. Codes come from
/// [`crate::AppError::code`] (password form posted without JavaScript) and
/// from the PeeringDB callback; unknown codes show a generic line instead of
/// echoing attacker-chosen text.
pub fn login_error_message(code: &str) -> &'static str {
    match code {
        "bad_credentials" => "That username and password do not match an active account.",
        "disabled" => "This account is disabled. Please contact the exchange's support team.",
        "throttled" => "Too many failed login attempts. Please wait a few minutes and try again.",
        "invalid" => "Please fill in both your username and your password.",
        "unauthenticated" => "Please log in first.",
        "session_ended" => "Your session has ended. Please log in again.",
        "pdb_cancelled" => "You cancelled the login at PeeringDB.",
        "pdb_state" => "That PeeringDB login could not be matched to this browser (it was already used, or started elsewhere). Please start again.",
        "pdb_expired" => "The PeeringDB login took too long. Please start again.",
        "pdb_issuer" => "The answer did not come from PeeringDB. Please start again.",
        "pdb_provider" => "PeeringDB could not complete the login. Please try again.",
        "pdb_invalid_grant" => "PeeringDB refused the login code (it expired or was already used). Please start again.",
        "pdb_config" => "PeeringDB refused this portal's credentials. Please tell the exchange's support team.",
        "pdb_forbidden" => "PeeringDB did not share your profile with us. Please start again and approve the request.",
        "pdb_rate_limited" => "PeeringDB is limiting requests right now. Please wait a minute and try again.",
        "pdb_unavailable" => "PeeringDB is not answering properly right now. Please try again later or use your password.",
        "pdb_timeout" => "PeeringDB took too long to answer. Please try again later or use your password.",
        "pdb_malformed" => "PeeringDB sent an answer we could not read. Please try again later.",
        "pdb_user_not_verified" => "Your PeeringDB account is not verified yet. Once PeeringDB has approved it, try again.",
        "pdb_email_not_verified" => "Your email address is not confirmed at PeeringDB. Confirm it there, then try again.",
        "pdb_no_email" => "PeeringDB did not share an email address. Please allow the email scope and try again.",
        "pdb_superadmin" => "Administrator accounts cannot log in with PeeringDB. Please use your password.",
        "pdb_disabled" => "This account is disabled. Please contact the exchange's support team.",
        "pdb_user_opted_out" => "You switched off PeeringDB login for your account. Please use your password.",
        "pdb_customer_opted_out" => "Your organisation has switched off PeeringDB login at this exchange. Please ask your colleagues for an account.",
        "pdb_no_customer" => "None of your PeeringDB networks is a member of this exchange.",
        _ => "The login did not succeed. Please try again.",
    }
}

/// The "no matching customer" message with the ASNs PeeringDB listed
/// (only digits and commas are taken from the URL).
pub fn no_customer_message(asns: &str) -> String {
    let asns: Vec<String> = asns.split(',').filter(|a| !a.is_empty() && a.len() <= 10 && a.bytes().all(|b| b.is_ascii_digit())).map(|a| format!("AS{a}")).take(100).collect();
    if asns.is_empty() {
        login_error_message("pdb_no_customer").to_string()
    } else {
        format!("None of your PeeringDB networks — {} — is a member of this exchange.", asns.join(", "))
    }
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
        assert_eq!(
            login_error_message("<script>alert(1)</script>"),
            "The login did not succeed. Please try again."
        );
    }
}
