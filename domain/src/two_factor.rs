//! Two-factor authentication for password accounts (TOTP, RFC 6238):
//! who must have it, what a typed code or recovery code is, and which
//! time step a code may still be accepted for. Pure: the server computes
//! the codes (totp-rs) and stores the steps; the rules are here.

use subtle::ConstantTimeEq;

/// Seconds per TOTP step (RFC 6238's default, what every app uses).
pub const STEP_SECONDS: u64 = 30;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// Recovery codes given at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// How long a password that was right waits for its second factor.
pub const SECOND_STEP_SECONDS: i64 = 300;

words! {
    /// `PEERPORTAL_REQUIRE_2FA`: which password accounts must have a
    /// second factor before they can do anything.
    pub enum TwoFactorPolicy ("2FA policy") {
        Off = "off",
        Superadmins = "superadmins",
        All = "all",
    }
}

impl TwoFactorPolicy {
    /// Whether an account must have two-factor authentication. Only
    /// password accounts: people without a password log in with PeeringDB,
    /// whose second factor the MFA policy judges.
    pub fn requires(self, is_superadmin: bool, has_password: bool) -> bool {
        has_password
            && match self {
                TwoFactorPolicy::Off => false,
                TwoFactorPolicy::Superadmins => is_superadmin,
                TwoFactorPolicy::All => true,
            }
    }
}

/// A one-time code as typed: six digits; spaces are ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneTimeCode(String);

impl OneTimeCode {
    pub fn parse(typed: &str) -> Option<OneTimeCode> {
        let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(OneTimeCode(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The time step of a moment (seconds since the epoch).
pub fn step_of(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

/// The step `code` belongs to, among the current one and its neighbours
/// (a phone's clock may be a step off, RFC 6238 §5.2), if that step is
/// newer than the last one accepted: a code works once, and so does every
/// code before it (§5.2's "MUST NOT accept the second attempt").
/// `code_at` gives the right code of a step; comparisons take constant time.
pub fn accepted_step(code: &OneTimeCode, now_step: u64, last_used: Option<u64>, code_at: impl Fn(u64) -> String) -> Option<u64> {
    let mut found = None;
    for step in now_step.saturating_sub(1)..=now_step + 1 {
        let matches = bool::from(code_at(step).as_bytes().ct_eq(code.0.as_bytes()));
        if matches && last_used.is_none_or(|last| step > last) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// Characters of a recovery code: lowercase letters and digits without the
/// ones people misread (0/o, 1/l/i).
pub const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Characters in a recovery code: four groups of four, 79 random bits,
/// so that even a stolen table of their SHA-256 hashes cannot be searched.
pub const RECOVERY_LENGTH: usize = 16;

/// A recovery code as shown: `abcd-efgh-jkmn-pqrs`.
pub fn format_recovery_code(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// A recovery code as typed, in the form it is stored (hashed) under:
/// case, spaces and dashes do not matter.
pub fn normalize_recovery_code(typed: &str) -> Option<String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect();
    (code.len() == RECOVERY_LENGTH && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> OneTimeCode {
        OneTimeCode::parse(s).unwrap()
    }

    /// A code per step that is easy to read in a test.
    fn code_at(step: u64) -> String {
        format!("{:06}", step % 1_000_000)
    }

    #[test]
    fn only_password_accounts_can_be_required_to_have_two_factor() {
        assert!(TwoFactorPolicy::Superadmins.requires(true, true));
        assert!(!TwoFactorPolicy::Superadmins.requires(false, true));
        assert!(TwoFactorPolicy::All.requires(false, true));
        assert!(!TwoFactorPolicy::All.requires(true, false), "PeeringDB-only accounts: PeeringDB's MFA policy applies");
        assert!(!TwoFactorPolicy::Off.requires(true, true));
    }

    #[test]
    fn a_code_is_six_digits_and_spaces_do_not_matter() {
        assert_eq!(OneTimeCode::parse("123 456").unwrap().as_str(), "123456");
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６"] {
            assert!(OneTimeCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_code_of_the_step_before_or_after_is_accepted_for_clock_drift() {
        assert_eq!(accepted_step(&code("001000"), 1000, None, code_at), Some(1000));
        assert_eq!(accepted_step(&code("000999"), 1000, None, code_at), Some(999));
        assert_eq!(accepted_step(&code("001001"), 1000, None, code_at), Some(1001));
        assert_eq!(accepted_step(&code("000998"), 1000, None, code_at), None, "two steps old");
        assert_eq!(accepted_step(&code("001002"), 1000, None, code_at), None, "two steps ahead");
    }

    #[test]
    fn a_used_code_and_every_code_before_it_cannot_be_replayed() {
        assert_eq!(accepted_step(&code("001000"), 1000, Some(1000), code_at), None, "the same code again");
        assert_eq!(accepted_step(&code("000999"), 1000, Some(1000), code_at), None, "an older code");
        assert_eq!(accepted_step(&code("001001"), 1000, Some(1000), code_at), Some(1001), "the next one works");
    }

    #[test]
    fn recovery_codes_are_read_whatever_their_case_dashes_and_spaces() {
        assert_eq!(format_recovery_code("abcdefghjkmnpqrs"), "abcd-efgh-jkmn-pqrs");
        assert_eq!(normalize_recovery_code(" ABCD-efgh-JKMN-pqrs "), Some("abcdefghjkmnpqrs".into()));
        assert_eq!(normalize_recovery_code("abcd efgh jkmn pqrs"), Some("abcdefghjkmnpqrs".into()));
        assert_eq!(normalize_recovery_code("abcd-efgh-jkmn-pqr"), None, "too short");
        assert_eq!(normalize_recovery_code("abcd-efgh-jkmn-pqr0"), None, "0 is not in the alphabet");
    }
}
