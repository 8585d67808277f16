//! What a re-sync does with a linked person's fresh profile: the same
//! checks and the same grant plan as a login, without the person there.
//! Pure: the server refreshes the token, reads the profile and the facts,
//! asks [`decide`], and writes what it answers.

use crate::grants::{Customer, Existing, GrantPlan, RolePolicy};
use crate::peeringdb::login::{self, Account, Decision, Refusal};
use crate::peeringdb::oidc::Assurance;
use crate::peeringdb::Profile;

/// What to do for one linked user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resync {
    /// Apply the plan; name and email follow PeeringDB. With
    /// `lost_everything`, the person can act for no customer any more and
    /// their sessions end (as a login would de-provision them).
    Apply { plan: GrantPlan, lost_everything: bool },
    /// PeeringDB no longer verifies the person: every PeeringDB grant goes
    /// and every session ends, as at a login.
    Withdraw,
    /// Nothing changes; the reason is recorded.
    Skip(SkipReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The profile is another PeeringDB user's than the one linked.
    OtherPerson,
    /// A check a login would refuse on that says nothing about access
    /// (email unconfirmed or missing), or an account PeeringDB does not
    /// speak for (superadmin, disabled, opted out).
    Refused(&'static str),
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::OtherPerson => "profile_of_another_person",
            SkipReason::Refused(reason) => reason,
        }
    }
}

/// The decision for `account`, linked to PeeringDB user `peeringdb_id`,
/// given its fresh `profile` and the facts a login reads. A re-sync is no
/// authentication: `assurance` is that of the person's last login.
pub fn decide(
    profile: &Profile,
    peeringdb_id: i64,
    account: Account,
    customers: &[Customer],
    existing: &[Existing],
    policy: RolePolicy,
    assurance: Assurance,
) -> Resync {
    if profile.id != peeringdb_id {
        return Resync::Skip(SkipReason::OtherPerson);
    }
    let verified = match login::verify(profile) {
        Ok(v) => v,
        Err(Refusal::UserNotVerified) => return Resync::Withdraw,
        Err(r) => return Resync::Skip(SkipReason::Refused(r.reason())),
    };
    match login::decide(&verified, Some(account), customers, existing, policy, assurance) {
        Decision::SignIn { plan, .. } => Resync::Apply { plan, lost_everything: false },
        Decision::Refuse { deprovision: Some((_, plan)), .. } => Resync::Apply { plan, lost_everything: true },
        Decision::Refuse { refusal, deprovision: None } => Resync::Skip(SkipReason::Refused(refusal.reason())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{CustomerKind, CustomerStatus};
    use crate::grants::{Role, Source};

    fn profile(json: &str) -> Profile {
        Profile::parse(json.as_bytes()).unwrap()
    }

    const ALICE: &str = r#"{"id":1001,"name":"Alice Anders","verified_user":true,"email":"alice@alpha.example","verified_email":true,
        "networks":[{"id":1,"asn":64500,"perms":15}]}"#;

    fn customer(id: i64, asn: u32) -> Customer {
        Customer { id, asns: vec![asn], kind: CustomerKind::Full, status: CustomerStatus::Active, peeringdb_login: true, max_role: None, require_mfa: false }
    }

    const ASSURED: Assurance = Assurance { policy: crate::peeringdb::oidc::MfaPolicy::Admins, second_factor: true };

    fn account() -> Account {
        Account { id: 7, is_superadmin: false, disabled: false, peeringdb_login_allowed: true }
    }

    fn pdb(customer_id: i64) -> Existing {
        Existing { customer_id, role: Role::Admin, source: Source::Peeringdb }
    }

    #[test]
    fn a_network_gained_is_granted_and_one_lost_is_removed() {
        let d = decide(&profile(ALICE), 1001, account(), &[customer(1, 64500), customer(2, 64501)], &[pdb(2)], RolePolicy::Perms, ASSURED);
        let Resync::Apply { plan, lost_everything } = d else { panic!("{d:?}") };
        assert_eq!((plan.add, plan.remove, lost_everything), (vec![(1, Role::Admin)], vec![2], false));
    }

    #[test]
    fn losing_the_last_customer_ends_the_sessions() {
        let nobody = r#"{"id":1001,"verified_user":true,"email":"a@b","verified_email":true,"networks":[]}"#;
        let d = decide(&profile(nobody), 1001, account(), &[customer(1, 64500)], &[pdb(1)], RolePolicy::Perms, ASSURED);
        let Resync::Apply { plan, lost_everything } = d else { panic!("{d:?}") };
        assert_eq!((plan.remove, lost_everything), (vec![1], true));
    }

    #[test]
    fn an_unverified_person_loses_peeringdb_access_and_other_refusals_change_nothing() {
        let unverified = r#"{"id":1001,"verified_user":false,"email":"a@b","verified_email":true}"#;
        assert_eq!(decide(&profile(unverified), 1001, account(), &[], &[pdb(1)], RolePolicy::Perms, ASSURED), Resync::Withdraw);
        let unconfirmed = r#"{"id":1001,"verified_user":true,"email":"a@b","verified_email":false}"#;
        assert_eq!(
            decide(&profile(unconfirmed), 1001, account(), &[], &[pdb(1)], RolePolicy::Perms, ASSURED),
            Resync::Skip(SkipReason::Refused("email_not_verified"))
        );
        let disabled = Account { disabled: true, ..account() };
        assert_eq!(decide(&profile(ALICE), 1001, disabled, &[], &[pdb(1)], RolePolicy::Perms, ASSURED), Resync::Skip(SkipReason::Refused("disabled")));
    }

    #[test]
    fn a_profile_of_someone_else_changes_nothing() {
        assert_eq!(decide(&profile(ALICE), 2002, account(), &[], &[], RolePolicy::Perms, ASSURED), Resync::Skip(SkipReason::OtherPerson));
    }
}
