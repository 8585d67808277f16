//! How long a browser session lives: an absolute lifetime from sign-in and
//! an idle timeout, whichever ends first. A session that is only read is not
//! rewritten on every page: "last seen" moves at most once per
//! [`SessionLifetime::touch_every`].

use time::{Duration, OffsetDateTime};

/// `PEERPORTAL_SESSION_MAX_AGE` and `PEERPORTAL_SESSION_IDLE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLifetime {
    pub max_age: Duration,
    pub idle: Duration,
}

impl Default for SessionLifetime {
    fn default() -> Self {
        SessionLifetime { max_age: Duration::hours(12), idle: Duration::hours(2) }
    }
}

/// What a session is at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Still valid; `touch` when "last seen" should move to now.
    Live { touch: bool },
    Expired,
}

impl SessionLifetime {
    /// When a session started at `created` and last seen at `last_seen` ends.
    pub fn expires_at(&self, created: OffsetDateTime, last_seen: OffsetDateTime) -> OffsetDateTime {
        (created + self.max_age).min(last_seen + self.idle)
    }

    /// How stale "last seen" may get before it is written again: a minute,
    /// or a tenth of the idle timeout when that is shorter. The idle
    /// timeout is therefore exact to within this.
    pub fn touch_every(&self) -> Duration {
        Duration::minutes(1).min(self.idle / 10)
    }

    pub fn state(&self, created: OffsetDateTime, last_seen: OffsetDateTime, now: OffsetDateTime) -> SessionState {
        if now >= self.expires_at(created, last_seen) {
            SessionState::Expired
        } else {
            SessionState::Live { touch: now - last_seen >= self.touch_every() }
        }
    }
}

/// "Firefox on Linux": enough for a person to recognise their own device in
/// the list of their sessions. Unknown agents read as "a browser".
pub fn browser_summary(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent else {
        return "Unknown browser".to_string();
    };
    // Order matters: Edge and Opera say "Chrome", Chrome says "Safari".
    let browser = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl")]
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map_or("A browser", |(_, name)| name);
    let system = [("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const START: OffsetDateTime = datetime!(2026-12-01 08:00 UTC);

    #[test]
    fn a_session_used_all_day_still_ends_at_its_max_age() {
        let life = SessionLifetime::default();
        let eleven_hours_in = START + Duration::hours(11) + Duration::minutes(59);
        assert_eq!(life.state(START, eleven_hours_in, eleven_hours_in), SessionState::Live { touch: false });
        assert_eq!(life.state(START, eleven_hours_in, START + Duration::hours(12)), SessionState::Expired);
    }

    #[test]
    fn a_session_left_alone_ends_after_the_idle_timeout() {
        let life = SessionLifetime::default();
        let seen = START + Duration::hours(1);
        assert!(matches!(life.state(START, seen, seen + Duration::minutes(119)), SessionState::Live { .. }));
        assert_eq!(life.state(START, seen, seen + Duration::hours(2)), SessionState::Expired);
    }

    #[test]
    fn last_seen_moves_at_most_once_a_minute() {
        let life = SessionLifetime::default();
        assert_eq!(life.state(START, START, START + Duration::seconds(59)), SessionState::Live { touch: false });
        assert_eq!(life.state(START, START, START + Duration::seconds(60)), SessionState::Live { touch: true });
        let short = SessionLifetime { max_age: Duration::hours(1), idle: Duration::seconds(100) };
        assert_eq!(short.touch_every(), Duration::seconds(10));
    }

    #[test]
    fn browsers_are_named_with_their_system() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0";
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
        assert_eq!(browser_summary(Some(firefox)), "Firefox on Linux");
        assert_eq!(browser_summary(Some(edge)), "Edge on Windows");
        assert_eq!(browser_summary(Some(safari)), "Safari on iOS");
        assert_eq!(browser_summary(Some("something")), "A browser");
        assert_eq!(browser_summary(None), "Unknown browser");
    }
}
