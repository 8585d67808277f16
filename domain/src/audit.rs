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

/// An audit row as a sentence ("Logged in with PeeringDB, with MFA",
/// "Access to Alpha Net added as admin, via PeeringDB"), from its event and
/// recorded details. The details stay as recorded for the CSV export; a
/// detail this version does not know is left out of the sentence, never
/// guessed.
pub fn sentence(event: AuditEvent, details: &serde_json::Value) -> String {
    let text = |key: &str| details.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let number = |key: &str| details.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let flag = |key: &str| details.get(key).and_then(serde_json::Value::as_bool);
    let customer = || Some(text("customer")).filter(|c| !c.is_empty()).unwrap_or_else(|| "a customer".into());
    let source = || match text("source").as_str() {
        "peeringdb" if text("via") == "resync" => ", via PeeringDB (daily check)".to_string(),
        "peeringdb" => ", via PeeringDB".to_string(),
        "manual" if text("via") == "invitation" => ", by invitation".to_string(),
        "manual" => ", by hand".to_string(),
        _ => String::new(),
    };
    match event {
        AuditEvent::LoginSuccess => match text("via").as_str() {
            "peeringdb" => match flag("mfa") {
                Some(true) => "Logged in with PeeringDB, with MFA".into(),
                Some(false) => "Logged in with PeeringDB, without a second factor".into(),
                None => "Logged in with PeeringDB".into(),
            },
            _ => match text("second_factor").as_str() {
                "totp" => "Logged in with a password and a two-factor code".into(),
                "recovery_code" => "Logged in with a password and a recovery code".into(),
                _ => "Logged in with a password".into(),
            },
        },
        AuditEvent::LoginRefused => {
            let how = if text("via") == "peeringdb" { " (PeeringDB)" } else { "" };
            format!("Login refused{how}: {}", refusal_label(&text("reason")))
        }
        AuditEvent::Logout => "Logged out".into(),
        AuditEvent::LogoutEverywhere => "Logged out everywhere".into(),
        AuditEvent::GrantAdded => format!("Access to {} added as {}{}", customer(), text("role"), source()),
        AuditEvent::GrantChanged => format!("Access to {} changed from {} to {}{}", customer(), text("from"), text("to"), source()),
        AuditEvent::GrantRemoved => {
            let why = Some(text("why")).filter(|w| !w.is_empty()).map(|w| format!(": {w}")).unwrap_or_default();
            format!("Access to {} removed{}{why}", customer(), source())
        }
        AuditEvent::CustomerCreated => format!("Customer {} created", customer()),
        AuditEvent::CustomerUpdated => {
            let fields: Vec<&str> = details.get("changes").and_then(|c| c.as_object()).map(|c| c.keys().map(String::as_str).collect()).unwrap_or_default();
            let lost = number("access_removed");
            let lost = if lost > 0 { format!("; {lost} lost access") } else { String::new() };
            match fields.as_slice() {
                [] => format!("Customer {} saved unchanged{lost}", customer()),
                _ => format!("Customer {} changed: {}{lost}", customer(), fields.join(", ").replace('_', " ")),
            }
        }
        AuditEvent::CustomerDeleted => format!("Customer {} deleted", customer()),
        AuditEvent::CustomersImported => format!("Customers imported: {} new, {} updated", number("created"), number("updated")),
        AuditEvent::UserCreated => match text("via").as_str() {
            "invitation" => format!("Account {} made by accepting an invitation", text("username")),
            _ if details.get("peeringdb_id").is_some() => format!("Account {} made at a first login with PeeringDB", text("username")),
            _ => format!("Account {} created", text("username")),
        },
        AuditEvent::UserDisabled => "Account disabled".into(),
        AuditEvent::UserEnabled => "Account enabled".into(),
        AuditEvent::UserUnlinked => "Account unlinked from PeeringDB".into(),
        AuditEvent::UserDeleted => format!("Account {} deleted", text("username")),
        AuditEvent::AccountPeeringdbLogin => match flag("allowed") {
            Some(false) => "Switched login with PeeringDB off for the account".into(),
            _ => "Switched login with PeeringDB on for the account".into(),
        },
        AuditEvent::AccountPasswordChanged => "Password changed".into(),
        AuditEvent::AccountSessionEnded => "Ended a session in another browser".into(),
        AuditEvent::AccountResetRequested => match text("mail").as_str() {
            "no_password" => "Password reset asked; mailed that the account logs in with PeeringDB".into(),
            _ => "Password reset asked; a link was mailed".into(),
        },
        AuditEvent::AccountPasswordReset => "Password set with a mailed link".into(),
        AuditEvent::InvitationSent => format!("Invited {} to {} as {}", text("email"), customer(), text("role")),
        AuditEvent::InvitationAccepted => format!("Accepted the invitation to {} as {}", customer(), text("role")),
        AuditEvent::InvitationWithdrawn => format!("Withdrew the invitation of {}", text("email")),
        AuditEvent::TwoFactorEnabled => "Two-factor authentication switched on".into(),
        AuditEvent::TwoFactorDisabled => "Two-factor authentication switched off".into(),
        AuditEvent::TwoFactorRecoveryUsed => format!("Logged in with a recovery code ({} left)", number("recovery_codes_left")),
        AuditEvent::TwoFactorReset => "Two-factor authentication removed by an administrator".into(),
        AuditEvent::PeeringdbLinkStale => format!("The PeeringDB link went stale: {}", text("why")),
        AuditEvent::PeeringdbSweep => {
            format!("Re-sync: {} checked, {} changed, {} errors, {} stale", number("synced"), number("changed"), number("errors"), number("stale"))
        }
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
    /// The scheduled import of the exchange's IX-F Member Export.
    Ixf,
}

impl Actor {
    /// Who it is, for a sentence; a person's name comes from their account.
    pub fn label(self) -> &'static str {
        match self {
            Actor::User(_) => "a person",
            Actor::Peeringdb => "PeeringDB",
            Actor::Cli => "the command line",
            Actor::Demo => "demo setup",
            Actor::Anonymous => "someone not signed in",
            Actor::Ixf => "the IX-F refresh",
        }
    }

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
            "ixf" => Actor::Ixf,
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
            Actor::Ixf => f.write_str("ixf"),
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
        for a in [Actor::User(42), Actor::Peeringdb, Actor::Cli, Actor::Demo, Actor::Anonymous, Actor::Ixf] {
            assert_eq!(Actor::parse(&a.to_string()), Ok(a));
        }
        assert_eq!(Actor::User(7).to_string(), "user:7");
        for bad in ["user:", "user:x", "root", ""] {
            assert!(Actor::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rows_read_as_the_sentences_people_expect() {
        use serde_json::json;
        let cases = [
            (AuditEvent::LoginSuccess, json!({ "via": "peeringdb", "mfa": true }), "Logged in with PeeringDB, with MFA"),
            (AuditEvent::LoginSuccess, json!({ "via": "password", "second_factor": "totp" }), "Logged in with a password and a two-factor code"),
            (
                AuditEvent::GrantAdded,
                json!({ "customer": "Alpha Net", "role": "admin", "source": "peeringdb" }),
                "Access to Alpha Net added as admin, via PeeringDB",
            ),
            (
                AuditEvent::LoginRefused,
                json!({ "via": "peeringdb", "reason": "no_customer" }),
                "Login refused (PeeringDB): no PeeringDB network of theirs is a customer",
            ),
            (
                AuditEvent::GrantRemoved,
                json!({ "customer": "Beta", "source": "peeringdb", "via": "resync", "why": "PeeringDB no longer vouches for it" }),
                "Access to Beta removed, via PeeringDB (daily check): PeeringDB no longer vouches for it",
            ),
            (
                AuditEvent::CustomerUpdated,
                json!({ "customer": "Alpha Net", "changes": { "peeringdb_login": [true, false] }, "access_removed": 2 }),
                "Customer Alpha Net changed: peeringdb login; 2 lost access",
            ),
            (AuditEvent::InvitationSent, json!({ "customer": "Alpha Net", "email": "n@x.net", "role": "member" }), "Invited n@x.net to Alpha Net as member"),
        ];
        for (event, details, expected) in cases {
            assert_eq!(sentence(event, &details), expected);
        }
    }

    #[test]
    fn every_event_has_a_sentence_even_without_details() {
        for event in AuditEvent::ALL {
            let s = sentence(*event, &serde_json::Value::Null);
            assert!(!s.is_empty() && s.chars().next().is_some_and(char::is_uppercase), "{event}: {s:?}");
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
