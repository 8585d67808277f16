//! The password login's throttle: limits that slow guessing without
//! letting anyone lock a person out.
//!
//! Three counters, each of attempts in a 15-minute window, taken before the
//! password is checked (so a burst of parallel guesses cannot all be
//! checked) and given back when the password was right:
//!
//! - per username *and* address, a hard limit: one client guessing one
//!   account stops after a few tries;
//! - per address (an IPv6 /64), a hard limit: one client spraying many
//!   accounts stops too;
//! - per username from anywhere, never a refusal, only a delay that grows
//!   with the attempts: an attacker elsewhere makes the right person wait a
//!   few seconds at most, and cannot keep them out.

use std::time::Duration as Wait;

use time::{Duration, OffsetDateTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max_attempts: i64,
    pub window: Duration,
}

/// The window every counter counts in (the store takes all of an
/// attempt's counters in one statement, with one window).
pub const WINDOW: Duration = Duration::minutes(15);
/// One username from one address: five tries per window.
pub const PER_PAIR: Limit = Limit { max_attempts: 5, window: WINDOW };
/// One address, any usernames: thirty tries per window.
pub const PER_ADDRESS: Limit = Limit { max_attempts: 30, window: WINDOW };
/// Attempts on one username before any delay.
pub const FREE_ATTEMPTS: i64 = 5;
/// The longest a username's delay grows.
pub const MAX_DELAY: Wait = Wait::from_secs(4);

/// A counter as it stands after this attempt was counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    pub attempts: i64,
    pub window_start: OffsetDateTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password, after waiting `delay`.
    Check { delay: Wait },
    /// Refuse without checking. `first` is true for the attempt that went
    /// over a limit (the one worth an audit row; the rest are only counted).
    Refuse { retry_after: Wait, first: bool },
}

/// The username's delay after `attempts` (this one included): none for the
/// first few, then half a second doubling, at most [`MAX_DELAY`].
pub fn username_delay(attempts: i64) -> Wait {
    let over = attempts - FREE_ATTEMPTS;
    if over <= 0 {
        return Wait::ZERO;
    }
    let shift = u32::try_from(over - 1).unwrap_or(u32::MAX).min(16);
    Wait::from_millis(500u64 << shift).min(MAX_DELAY)
}

/// What to do with an attempt, given its counters (`address` is `None`
/// when the client's address is unknown).
pub fn judge(pair: Count, address: Option<Count>, username: Count, at: OffsetDateTime) -> Verdict {
    let over = [(pair, PER_PAIR)].into_iter().chain(address.map(|a| (a, PER_ADDRESS))).filter(|(c, l)| c.attempts > l.max_attempts);
    let mut refuse: Option<(Wait, bool)> = None;
    for (count, limit) in over {
        let left = (count.window_start + limit.window - at).max(Duration::seconds(1));
        let left = Wait::from_secs(u64::try_from(left.whole_seconds()).unwrap_or(1));
        let first = count.attempts == limit.max_attempts + 1;
        refuse = Some(match refuse {
            None => (left, first),
            Some((w, f)) => (w.max(left), f || first),
        });
    }
    match refuse {
        Some((retry_after, first)) => Verdict::Refuse { retry_after, first },
        None => Verdict::Check { delay: username_delay(username.attempts) },
    }
}

/// Whole minutes to tell a person, rounded up.
pub fn minutes(wait: Wait) -> u32 {
    u32::try_from(wait.as_secs().div_ceil(60)).unwrap_or(u32::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

    fn n(attempts: i64) -> Count {
        Count { attempts, window_start: T0 }
    }

    #[test]
    fn the_sixth_try_on_one_account_from_one_address_is_refused_until_the_window_ends() {
        let at = T0 + Duration::minutes(1);
        assert_eq!(judge(n(5), Some(n(5)), n(5), at), Verdict::Check { delay: Wait::ZERO });
        assert_eq!(judge(n(6), Some(n(6)), n(6), at), Verdict::Refuse { retry_after: Wait::from_secs(14 * 60), first: true });
        assert_eq!(judge(n(7), Some(n(7)), n(7), at), Verdict::Refuse { retry_after: Wait::from_secs(14 * 60), first: false });
    }

    #[test]
    fn one_address_spraying_many_accounts_is_refused_after_thirty() {
        let at = T0 + Duration::minutes(5);
        assert!(matches!(judge(n(1), Some(n(30)), n(1), at), Verdict::Check { .. }));
        assert!(matches!(judge(n(1), Some(n(31)), n(1), at), Verdict::Refuse { first: true, .. }));
    }

    #[test]
    fn a_username_under_attack_elsewhere_only_waits_and_is_never_refused() {
        let at = T0 + Duration::minutes(1);
        // A fresh address, a username with ten thousand attempts against it.
        assert_eq!(judge(n(1), Some(n(1)), n(10_000), at), Verdict::Check { delay: MAX_DELAY });
        assert_eq!(judge(n(1), None, n(10_000), at), Verdict::Check { delay: MAX_DELAY });
    }

    #[test]
    fn the_delay_grows_from_half_a_second_and_stops_at_the_maximum() {
        let delays: Vec<u128> = (1..=12).map(|a| username_delay(a).as_millis()).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 500, 1000, 2000, 4000, 4000, 4000, 4000]);
        assert_eq!(username_delay(i64::MAX), MAX_DELAY);
    }

    #[test]
    fn minutes_round_up_and_are_never_zero() {
        assert_eq!(minutes(Wait::from_secs(1)), 1);
        assert_eq!(minutes(Wait::from_secs(61)), 2);
        assert_eq!(minutes(Wait::ZERO), 1);
    }
}
