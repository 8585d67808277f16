//! The audit log's vocabulary: what happened, and who did it.

words! {
    /// Every event the audit log records. Names are `family.what`; the
    /// console filters by a whole family with the `family.` prefix.
    pub enum AuditEvent ("audit event") {
        LoginSuccess = "login.success",
        LoginRefused = "login.refused",
        Logout = "logout",
        LogoutEverywhere = "logout.everywhere",
        GrantAdded = "grant.added",
        GrantChanged = "grant.changed",
        GrantRemoved = "grant.removed",
        CustomerCreated = "customer.created",
        CustomerUpdated = "customer.updated",
        CustomerDeleted = "customer.deleted",
        CustomersImported = "customers.imported",
        UserCreated = "user.created",
        UserDisabled = "user.disabled",
        UserEnabled = "user.enabled",
        UserUnlinked = "user.unlinked",
        UserDeleted = "user.deleted",
        AccountPeeringdbLogin = "account.peeringdb_login",
        AccountPasswordChanged = "account.password_changed",
        AccountSessionEnded = "account.session_ended",
        AccountResetRequested = "account.reset_requested",
        AccountPasswordReset = "account.password_reset",
        InvitationSent = "invitation.sent",
        InvitationAccepted = "invitation.accepted",
        InvitationWithdrawn = "invitation.withdrawn",
        TwoFactorEnabled = "2fa.enabled",
        TwoFactorDisabled = "2fa.disabled",
        TwoFactorRecoveryUsed = "2fa.recovery_used",
        TwoFactorReset = "2fa.reset",
        PeeringdbLinkStale = "peeringdb.link_stale",
        PeeringdbSweep = "peeringdb.sweep",
    }
}
serde_as_word!(AuditEvent);

impl AuditEvent {
    /// The family prefix (`login.`), when the event has one.
    pub fn family(self) -> Option<&'static str> {
        let s = self.as_str();
        s.find('.').map(|dot| &s[..=dot])
    }
}

/// A refused login's recorded reason, as a person reads it (charts, the
/// audit log's sentences). Reasons this version does not know are shown
/// as their words.
pub fn refusal_label(reason: &str) -> String {
    let known = match reason {
        "unknown_user" => "unknown username",
        "wrong_password" => "wrong password",
        "no_password" => "account without a password",
        "wrong_code" => "wrong two-factor code",
        "disabled" => "account disabled",
        "throttled" => "too many attempts",
        "user_not_verified" => "not verified at PeeringDB",
        "email_not_verified" => "email not confirmed at PeeringDB",
        "no_email" => "no email from PeeringDB",
        "superadmin" => "superadmin tried PeeringDB",
        "user_opted_out" => "person switched PeeringDB login off",
        "customer_opted_out" => "customer switched PeeringDB login off",
        "no_customer" => "no PeeringDB network of theirs is a customer",
        "mfa_required" => "no second factor at PeeringDB",
        "pdb_cancelled" => "cancelled at PeeringDB",
        "pdb_state" | "pdb_expired" => "PeeringDB login could not be matched or took too long",
        "pdb_timeout" | "pdb_unavailable" | "pdb_malformed" | "pdb_provider" => "PeeringDB did not answer properly",
        "pdb_rate_limited" => "PeeringDB rate limit",
        "pdb_config" | "pdb_discovery" => "portal's PeeringDB settings",
        "pdb_invalid_grant" => "PeeringDB refused the code",
        "pdb_forbidden" => "profile not shared by PeeringDB",
        other if other.starts_with("id_token") || other == "pdb_id_token" => "ID token did not check out",
        other => return other.replace('_', " "),
    };
    known.to_string()
}

/// The longest text an audit row keeps of anything a request brought
/// (a username typed at login, a provider's words): longer is cut, so no
/// request can make an audit row large.
pub const MAX_TEXT_CHARS: usize = 200;

/// `s`, cut to [`MAX_TEXT_CHARS`] characters with an ellipsis.
pub fn capped(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(MAX_TEXT_CHARS) {
        None => std::borrow::Cow::Borrowed(s),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &s[..end])),
    }
}

/// Cuts every string in an audit row's details (keys and values, nested
/// too) to [`MAX_TEXT_CHARS`].
pub fn cap_details(details: &mut serde_json::Value) {
    match details {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(cut) = capped(s) {
                *s = cut;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(cap_details),
        serde_json::Value::Object(map) => {
            let long_keys: Vec<String> = map.keys().filter(|k| matches!(capped(k), std::borrow::Cow::Owned(_))).cloned().collect();
            for key in long_keys {
                if let Some(value) = map.remove(&key) {
                    map.insert(capped(&key).into_owned(), value);
                }
            }
            map.values_mut().for_each(cap_details);
        }
        _ => {}
    }
}

/// The choices of the audit log's event filter: each family with more than
/// one event as its prefix, followed by its events.
pub fn filter_choices() -> Vec<&'static str> {
    let mut out = Vec::new();
    for event in AuditEvent::ALL {
        if let Some(family) = event.family() {
            let members = AuditEvent::ALL.iter().filter(|e| e.family() == Some(family)).count();
            if members > 1 && !out.contains(&family) {
                out.push(family);
            }
        }
        out.push(event.as_str());
    }
    out
}

/// Who did what the audit log records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A signed-in person, by user id.
    User(i64),
    /// PeeringDB, through a login (grants it vouches for).
    Peeringdb,
    /// The `peerportal` command line.
    Cli,
    /// Demo mode's own setup.
    Demo,
    /// Someone not signed in (a refused login).
    Anonymous,
}

impl Actor {
    pub fn user_id(self) -> Option<i64> {
        match self {
            Actor::User(id) => Some(id),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Result<Actor, crate::UnknownValue> {
        let unknown = || crate::UnknownValue { what: "actor", value: s.to_string() };
        Ok(match s {
            "peeringdb" => Actor::Peeringdb,
            "cli" => Actor::Cli,
            "demo" => Actor::Demo,
            "anonymous" => Actor::Anonymous,
            _ => Actor::User(s.strip_prefix("user:").and_then(|id| id.parse().ok()).ok_or_else(unknown)?),
        })
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Peeringdb => f.write_str("peeringdb"),
            Actor::Cli => f.write_str("cli"),
            Actor::Demo => f.write_str("demo"),
            Actor::Anonymous => f.write_str("anonymous"),
        }
    }
}

impl serde::Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Actor, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Actor::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_an_audit_row_keeps_is_capped() {
        let long = "é".repeat(5_000);
        assert_eq!(capped(&long).chars().count(), MAX_TEXT_CHARS + 1);
        assert_eq!(capped("short"), "short");
        let mut details = serde_json::json!({ "username": long, "list": [long], "nested": { long.clone(): 1 } });
        cap_details(&mut details);
        let text = details.to_string();
        assert!(text.chars().count() < 4 * (MAX_TEXT_CHARS + 10), "{}", text.len());
    }

    #[test]
    fn actors_read_back_as_themselves() {
        for a in [Actor::User(42), Actor::Peeringdb, Actor::Cli, Actor::Demo, Actor::Anonymous] {
            assert_eq!(Actor::parse(&a.to_string()), Ok(a));
        }
        assert_eq!(Actor::User(7).to_string(), "user:7");
        for bad in ["user:", "user:x", "root", ""] {
            assert!(Actor::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refusal_reasons_read_as_words_and_unknown_ones_pass_through() {
        assert_eq!(refusal_label("no_customer"), "no PeeringDB network of theirs is a customer");
        assert_eq!(refusal_label("id_token_signature"), "ID token did not check out");
        assert_eq!(refusal_label("something_new"), "something new");
    }

    #[test]
    fn the_filter_offers_each_family_before_its_events() {
        let choices = filter_choices();
        assert_eq!(&choices[..4], ["login.", "login.success", "login.refused", "logout"]);
        for family in ["grant.", "customer.", "user.", "account."] {
            let at = choices.iter().position(|c| *c == family).unwrap();
            assert!(choices[at + 1].starts_with(family), "{family} then its events");
        }
        assert!(!choices.contains(&"logout."), "a family of one needs no prefix");
        assert_eq!(choices.iter().filter(|c| !c.ends_with('.')).count(), AuditEvent::ALL.len());
    }
}
