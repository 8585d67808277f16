//! People's accounts: usernames, email addresses, how an account was made,
//! and the password rules people are told about.

use std::collections::HashSet;

words! {
    /// How an account came to exist.
    pub enum CreatedVia ("account origin") {
        /// `peerportal admin create`.
        Cli = "cli",
        /// A superadmin in the console.
        Admin = "admin",
        /// A first login with PeeringDB.
        Peeringdb = "peeringdb",
    }
}
serde_as_word!(CreatedVia);

/// A local username: stored lowercase, 1–64 of letters, digits, `.`, `_`, `-`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Username, String> {
        let username = s.trim().to_lowercase();
        if username.is_empty() || username.len() > 64 || !username.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
            return Err("1 to 64 letters, digits, '.', '_' or '-'".into());
        }
        Ok(Username(username))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address as far as a portal can tell: something@something.tld,
/// no spaces. Whether it receives mail is the mail server's business.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, String> {
        let email = s.trim();
        let plausible = matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.'))
            && !email.contains(char::is_whitespace);
        if plausible {
            Ok(Email(email.to_string()))
        } else {
            Err(format!("{email:?} is not an email address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A local username from a PeeringDB name: lowercase `[a-z0-9._-]`, the
/// rest dropped or folded to '.', never empty.
pub fn username_base(name: &str, peeringdb_id: i64) -> String {
    let mut out = String::new();
    for ch in name.trim().chars() {
        let ch = ch.to_ascii_lowercase();
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_' || ch == '-' {
            out.push(ch);
        } else if (ch == '.' || ch.is_whitespace()) && !out.ends_with('.') && !out.is_empty() {
            out.push('.');
        }
    }
    let out = out.trim_end_matches('.').chars().take(32).collect::<String>();
    if out.is_empty() {
        format!("pdb{peeringdb_id}")
    } else {
        out
    }
}

/// The first of `base`, `base2`, `base3`… that is not taken. `taken` holds
/// the usernames that start with `base` (the others cannot collide).
pub fn free_username(base: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}{n}"))
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or_else(|| base.to_string())
}

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// What is wrong with a new password, if anything.
pub fn password_problem(password: &str) -> Option<String> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Some(format!("the password must be at least {PASSWORD_MIN_CHARS} characters long"));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Some(format!("the password must be at most {PASSWORD_MAX_BYTES} bytes long"));
    }
    None
}

/// "24 h", "7 d", "90 min", "45 s": a duration as the console says it.
pub fn duration_words(seconds: u64) -> String {
    match seconds {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s >= 3_600 && s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_stored_lowercase_and_plain() {
        assert_eq!(Username::parse("  Ops.Team_1 ").unwrap().as_str(), "ops.team_1");
        for bad in ["", "has space", "ünïcode", &"x".repeat(65), "semi;colon"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(Email::parse(" ops@example.net ").unwrap().as_str(), "ops@example.net");
        for bad in ["", "ops", "@example.net", "ops@localhost", "o ps@example.net"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn usernames_from_peeringdb_names_are_lowercase_and_safe() {
        assert_eq!(username_base("Alice Anders", 1), "alice.anders");
        assert_eq!(username_base("  Jörg  O'Brien-Smith ", 1), "jrg.obrien-smith");
        assert_eq!(username_base("李雷", 42), "pdb42");
        assert_eq!(username_base("", 5), "pdb5");
    }

    #[test]
    fn a_taken_username_gets_the_first_free_number() {
        let taken = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
        assert_eq!(free_username("alice", &taken(&[])), "alice");
        assert_eq!(free_username("alice", &taken(&["alice", "alice.anders"])), "alice2");
        assert_eq!(free_username("alice", &taken(&["alice", "alice2", "alice3"])), "alice4");
    }

    #[test]
    fn passwords_between_ten_characters_and_a_kilobyte() {
        assert!(password_problem("short").is_some());
        assert!(password_problem("long enough pass").is_none());
        assert!(password_problem("ü".repeat(10).as_str()).is_none(), "ten characters, not ten bytes");
        assert!(password_problem(&"x".repeat(1025)).is_some());
    }

    #[test]
    fn durations_read_in_their_largest_whole_unit() {
        assert_eq!(duration_words(86_400), "1 d");
        assert_eq!(duration_words(36 * 3_600), "36 h");
        assert_eq!(duration_words(90 * 60), "90 min");
        assert_eq!(duration_words(45), "45 s");
    }
}
