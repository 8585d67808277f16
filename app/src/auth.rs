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
        _ => "The login did not succeed. Please try again.",
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
