//! Invitations: a customer admin asks a person, by email, to join the
//! customer with a role. The rules of who may invite whom and when an
//! invitation may be accepted.

use time::OffsetDateTime;

use crate::Role;

/// Why an invitation cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InviteRefusal {
    /// Nobody gives more than they have.
    #[error("You can invite people as {max} at most.")]
    RoleAboveInviter { max: Role },
    #[error("Only the customer's admins can invite people.")]
    NotAdmin,
}

/// The inviter's standing at the customer: a superadmin may invite with any
/// role, a customer admin with any role up to their own (admin), a member
/// not at all.
pub fn may_invite(inviter_is_superadmin: bool, inviter_role: Option<Role>, role: Role) -> Result<(), InviteRefusal> {
    if inviter_is_superadmin {
        return Ok(());
    }
    match inviter_role {
        Some(Role::Admin) => Ok(()),
        Some(max) if role <= max => Err(InviteRefusal::NotAdmin),
        Some(max) => Err(InviteRefusal::RoleAboveInviter { max }),
        None => Err(InviteRefusal::NotAdmin),
    }
}

/// An invitation as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub email: String,
    pub role: Role,
    pub expires_at: OffsetDateTime,
    pub accepted: bool,
    pub withdrawn: bool,
}

/// Why an invitation cannot be accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AcceptRefusal {
    #[error("This invitation has been used already.")]
    Used,
    #[error("This invitation was withdrawn.")]
    Withdrawn,
    #[error("This invitation has expired: ask for a new one.")]
    Expired,
    /// The account's email is not the one invited: the link proves only
    /// that its holder reads that mailbox.
    #[error("This invitation was sent to another email address than your account's.")]
    WrongAccount,
}

impl AcceptRefusal {
    /// The word in the audit row.
    pub fn reason(self) -> &'static str {
        match self {
            AcceptRefusal::Used => "used",
            AcceptRefusal::Withdrawn => "withdrawn",
            AcceptRefusal::Expired => "expired",
            AcceptRefusal::WrongAccount => "wrong_account",
        }
    }
}

/// Whether the invitation is still open at `now`.
pub fn open(invitation: &Invitation, now: OffsetDateTime) -> Result<(), AcceptRefusal> {
    if invitation.accepted {
        Err(AcceptRefusal::Used)
    } else if invitation.withdrawn {
        Err(AcceptRefusal::Withdrawn)
    } else if now >= invitation.expires_at {
        Err(AcceptRefusal::Expired)
    } else {
        Ok(())
    }
}

/// Whether an account with `email` may accept it at `now` (emails compare
/// without regard to case).
pub fn acceptable_by(invitation: &Invitation, email: &str, now: OffsetDateTime) -> Result<(), AcceptRefusal> {
    open(invitation, now)?;
    if !invitation.email.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(AcceptRefusal::WrongAccount);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    fn invitation() -> Invitation {
        Invitation {
            email: "Ann@Example.net".into(),
            role: Role::Member,
            expires_at: datetime!(2026-12-08 12:00 UTC),
            accepted: false,
            withdrawn: false,
        }
    }

    #[test]
    fn a_customer_admin_invites_members_and_admins_a_member_nobody() {
        assert_eq!(may_invite(false, Some(Role::Admin), Role::Admin), Ok(()));
        assert_eq!(may_invite(false, Some(Role::Admin), Role::Member), Ok(()));
        assert_eq!(may_invite(false, Some(Role::Member), Role::Member), Err(InviteRefusal::NotAdmin));
        assert_eq!(may_invite(false, None, Role::Member), Err(InviteRefusal::NotAdmin));
        assert_eq!(may_invite(true, None, Role::Admin), Ok(()));
    }

    #[test]
    fn nobody_invites_above_their_own_role() {
        assert_eq!(may_invite(false, Some(Role::Member), Role::Admin), Err(InviteRefusal::RoleAboveInviter { max: Role::Member }));
    }

    #[test]
    fn an_invitation_is_accepted_once_before_it_expires_by_the_invited_address() {
        assert_eq!(acceptable_by(&invitation(), "ann@example.NET", NOW), Ok(()));
        assert_eq!(acceptable_by(&invitation(), "bob@example.net", NOW), Err(AcceptRefusal::WrongAccount));
        assert_eq!(acceptable_by(&Invitation { accepted: true, ..invitation() }, "ann@example.net", NOW), Err(AcceptRefusal::Used));
        assert_eq!(acceptable_by(&Invitation { withdrawn: true, ..invitation() }, "ann@example.net", NOW), Err(AcceptRefusal::Withdrawn));
        assert_eq!(acceptable_by(&invitation(), "ann@example.net", datetime!(2026-12-08 12:00 UTC)), Err(AcceptRefusal::Expired));
    }
}
