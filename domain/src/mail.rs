//! Mail: which mails there are, when a failed one is tried again, and how
//! long the links they carry work.

use std::time::Duration;

words! {
    /// Every mail the portal sends.
    pub enum MailKind ("mail kind") {
        /// An account was made through PeeringDB (lists its access).
        Welcome = "welcome",
        /// A login or re-sync added, changed or removed access.
        AccessChanged = "access_changed",
        /// A single-use link to set a new password.
        PasswordReset = "password_reset",
        /// A reset was asked for an account without a password: it logs
        /// in with PeeringDB.
        NoPassword = "no_password",
        /// A customer admin invited a person.
        Invitation = "invitation",
    }
}

impl MailKind {
    /// What the console calls it.
    pub fn label(self) -> &'static str {
        match self {
            MailKind::Welcome => "Welcome",
            MailKind::AccessChanged => "Access changed",
            MailKind::PasswordReset => "Password reset",
            MailKind::NoPassword => "Reset asked, no password",
            MailKind::Invitation => "Invitation",
        }
    }
}

/// The first retry waits this long; each further one twice as long as the
/// one before, up to [`RETRY_MAX`].
pub const RETRY_FIRST: Duration = Duration::from_secs(30);
/// The longest wait between two tries of a mail the server refused for now.
pub const RETRY_MAX: Duration = Duration::from_secs(3600);
/// The wait after the server refused a mail for good (a 5xx answer, such
/// as an unknown recipient): it is tried once a day until someone acts.
pub const RETRY_REFUSED: Duration = Duration::from_secs(86_400);

/// How long to wait before trying a mail again after its `attempts`-th
/// failed try. A mail is never given up: a mail server down for a week
/// still gets every mail once it is back.
pub fn retry_delay(attempts: u32, refused_for_good: bool) -> Duration {
    if refused_for_good {
        return RETRY_REFUSED;
    }
    let doublings = attempts.saturating_sub(1).min(16);
    RETRY_FIRST.saturating_mul(1 << doublings).min(RETRY_MAX)
}

/// How long a password reset link works.
pub const RESET_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// How long an invitation works.
pub const INVITATION_LIFETIME: Duration = Duration::from_secs(7 * 86_400);

/// Reset mails one account gets per hour, and requests one address may
/// make per hour: enough for a typo and a retry, too few to flood a mailbox.
pub const RESETS_PER_ACCOUNT: i64 = 3;
pub const RESETS_PER_ADDRESS: i64 = 10;
/// The window of those limits.
pub const RESET_WINDOW: time::Duration = time::Duration::hours(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_thirty_seconds_up_to_an_hour() {
        let waits: Vec<u64> = (1..=9).map(|n| retry_delay(n, false).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(retry_delay(u32::MAX, false), RETRY_MAX);
    }

    #[test]
    fn a_mail_refused_for_good_is_tried_again_a_day_later_not_dropped() {
        assert_eq!(retry_delay(1, true), RETRY_REFUSED);
        assert_eq!(retry_delay(40, true), RETRY_REFUSED);
    }
}
