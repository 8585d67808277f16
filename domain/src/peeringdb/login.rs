//! What a PeeringDB login decides once PeeringDB has said who the person
//! is: refuse (and why), or sign in with which grants. Pure: the server
//! reads the facts in one transaction, asks [`decide`], and writes what it
//! answers.

use crate::grants::{self, Customer, Existing, GrantPlan, Role, RolePolicy};
use crate::peeringdb::oidc::Assurance;
use crate::peeringdb::Profile;
use crate::user::username_base;
use crate::LoginError;

/// Why a PeeringDB login is refused after PeeringDB told us who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    UserNotVerified,
    EmailNotVerified,
    NoEmail,
    Superadmin,
    Disabled,
    UserOptedOut,
    CustomerOptedOut,
    NoCustomer { asns: Vec<u32> },
    /// The MFA policy, or every customer PeeringDB vouches for, wants a
    /// second factor this login did not use.
    MfaRequired,
}

impl Refusal {
    /// The reason the audit log records.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::UserNotVerified => "user_not_verified",
            Refusal::EmailNotVerified => "email_not_verified",
            Refusal::NoEmail => "no_email",
            Refusal::Superadmin => "superadmin",
            Refusal::Disabled => "disabled",
            Refusal::UserOptedOut => "user_opted_out",
            Refusal::CustomerOptedOut => "customer_opted_out",
            Refusal::NoCustomer { .. } => "no_customer",
            Refusal::MfaRequired => "mfa_required",
        }
    }

    pub fn code(&self) -> LoginError {
        match self {
            Refusal::UserNotVerified => LoginError::PdbUserNotVerified,
            Refusal::EmailNotVerified => LoginError::PdbEmailNotVerified,
            Refusal::NoEmail => LoginError::PdbNoEmail,
            Refusal::Superadmin => LoginError::PdbSuperadmin,
            Refusal::Disabled => LoginError::PdbDisabled,
            Refusal::UserOptedOut => LoginError::PdbUserOptedOut,
            Refusal::CustomerOptedOut => LoginError::PdbCustomerOptedOut,
            Refusal::NoCustomer { .. } => LoginError::PdbNoCustomer,
            Refusal::MfaRequired => LoginError::PdbMfaRequired,
        }
    }

    /// Where the browser goes: `/login` with the code the page explains.
    pub fn location(&self) -> String {
        match self {
            Refusal::NoCustomer { asns } if !asns.is_empty() => {
                let list = asns.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
                format!("/login?error={}&asns={list}", self.code())
            }
            _ => format!("/login?error={}", self.code()),
        }
    }
}

/// A profile PeeringDB vouches for: a verified person with a confirmed email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<'a> {
    pub profile: &'a Profile,
    pub email: String,
}

/// The checks that need only the profile; they come before anything is read or written.
pub fn verify(p: &Profile) -> Result<Verified<'_>, Refusal> {
    if !p.verified_user {
        return Err(Refusal::UserNotVerified);
    }
    let email = p.email.as_deref().map(str::trim).filter(|e| e.contains('@')).ok_or(Refusal::NoEmail)?;
    if !p.verified_email {
        return Err(Refusal::EmailNotVerified);
    }
    Ok(Verified { profile: p, email: email.to_string() })
}

/// An existing account, as far as the decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub is_superadmin: bool,
    pub disabled: bool,
    pub peeringdb_login_allowed: bool,
}

/// With `PEERINGDB_LINK_BY_EMAIL`, the local account a new PeeringDB
/// identity joins: only when exactly one unlinked account has the verified
/// email, and never a superadmin's.
pub fn link_candidate(same_email: &[Account]) -> Option<Account> {
    match same_email {
        [only] if !only.is_superadmin => Some(*only),
        _ => None,
    }
}

/// What to do about the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    /// A first login: a new account, its username from `username_base`
    /// (with a number when taken).
    Create { username_base: String },
    /// Name and email follow PeeringDB; the identity is linked.
    Update { user_id: i64 },
}

/// What PeeringDB vouched for that this login does not get, because it
/// was made without a second factor: the person is told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Withheld {
    /// Customers where the role stays member instead of admin
    /// (`PEERINGDB_REQUIRE_MFA=admins`).
    pub lowered: Vec<i64>,
    /// Customers that require a second factor of their people.
    pub needs_mfa: Vec<i64>,
}

impl Withheld {
    pub fn is_empty(&self) -> bool {
        self.lowered.is_empty() && self.needs_mfa.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Sign the person in after writing the account and the plan.
    SignIn { account: AccountChange, plan: GrantPlan, withheld: Withheld },
    /// Refuse. An existing account that lost every customer is still
    /// de-provisioned: `deprovision` holds its id and the plan (removals
    /// only), and its sessions end. De-provisioning never waits for a
    /// successful login.
    Refuse { refusal: Refusal, deprovision: Option<(i64, GrantPlan)> },
}

/// The customers as a login without a second factor sees them: those that
/// require one cannot be vouched for, and with the `admins` policy no role
/// goes above member.
fn as_assured(customers: &[Customer], assurance: Assurance) -> Vec<Customer> {
    customers
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if c.require_mfa && !assurance.second_factor {
                c.peeringdb_login = false;
            }
            if assurance.caps_roles() {
                c.max_role = Some(c.max_role.map_or(Role::Member, |cap| cap.min(Role::Member)));
            }
            c
        })
        .collect()
}

/// The decision of a PeeringDB login. `customers` are every customer
/// holding one of the profile's ASNs or affiliated with the account,
/// `existing` the account's affiliations, `assurance` how the person
/// authenticated and what the MFA policy makes of it.
pub fn decide(
    verified: &Verified<'_>,
    account: Option<Account>,
    customers: &[Customer],
    existing: &[Existing],
    policy: RolePolicy,
    assurance: Assurance,
) -> Decision {
    if let Some(a) = account {
        let refusal = if a.is_superadmin {
            Some(Refusal::Superadmin)
        } else if a.disabled {
            Some(Refusal::Disabled)
        } else if !a.peeringdb_login_allowed {
            Some(Refusal::UserOptedOut)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            return Decision::Refuse { refusal, deprovision: None };
        }
    }
    if assurance.refuses() {
        return Decision::Refuse { refusal: Refusal::MfaRequired, deprovision: None };
    }
    let profile = verified.profile;
    let networks = profile.grant_networks();
    let assured = as_assured(customers, assurance);
    let plan = grants::plan(&networks, &assured, existing, policy);
    let full = grants::vouched(&networks, customers, policy);
    let got = grants::vouched(&networks, &assured, policy);
    let withheld = Withheld {
        lowered: full.iter().filter(|(id, role)| got.get(id).is_some_and(|r| r < role)).map(|(id, _)| *id).collect(),
        needs_mfa: full.keys().filter(|id| !got.contains_key(id)).copied().collect(),
    };
    if plan.customers_after() == 0 {
        let asns = profile.asns();
        let opted_out = customers.iter().any(|c| !c.peeringdb_login && c.asns.iter().any(|a| asns.contains(a)));
        let refusal = if !withheld.needs_mfa.is_empty() {
            Refusal::MfaRequired
        } else if opted_out {
            Refusal::CustomerOptedOut
        } else {
            Refusal::NoCustomer { asns }
        };
        return Decision::Refuse { refusal, deprovision: account.map(|a| (a.id, plan)) };
    }
    let account = match account {
        Some(a) => AccountChange::Update { user_id: a.id },
        None => AccountChange::Create { username_base: username_base(&profile.display_name(), profile.id) },
    };
    Decision::SignIn { account, plan, withheld }
}

/// Where a signed-in person goes: the page they asked for, else the picker
/// when they have several customers, else the dashboard.
pub fn landing(next: Option<String>, customers: usize) -> String {
    next.unwrap_or_else(|| if customers > 1 { "/choose".to_string() } else { "/".to_string() })
}

/// Names a few customers and counts the rest, so sixty networks still
/// make a readable notice.
fn name_some(names: &[String]) -> String {
    const SHOWN: usize = 5;
    if names.len() <= SHOWN + 1 {
        names.join(", ")
    } else {
        format!("{} and {} more", names[..SHOWN].join(", "), names.len() - SHOWN)
    }
}

/// The notice after a login that changed access, or that got less than
/// PeeringDB vouched for because it was made without a second factor
/// (`lowered` and `needs_mfa` name those customers).
pub fn changes_notice(added: &[String], removed: &[String], lowered: &[String], needs_mfa: &[String]) -> Option<String> {
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("Access added: {}.", name_some(added)));
    }
    if !removed.is_empty() {
        parts.push(format!("Removed: {} — PeeringDB no longer lists you there.", name_some(removed)));
    }
    if !lowered.is_empty() {
        parts.push(format!(
            "You have member rights only at {}: admin rights need a PeeringDB login with a second factor.",
            name_some(lowered)
        ));
    }
    if !needs_mfa.is_empty() {
        parts.push(format!("{} requires a PeeringDB login with a second factor: log in with one to get access.", name_some(needs_mfa)));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{CustomerKind, CustomerStatus};
    use crate::grants::Source;
    use crate::peeringdb::oidc::MfaPolicy;

    fn profile(json: &str) -> Profile {
        Profile::parse(json.as_bytes()).unwrap()
    }

    const ALICE: &str = r#"{"id":1001,"name":"Alice Anders","verified_user":true,"email":"alice@alpha.example","verified_email":true,
        "networks":[{"id":1,"asn":64500,"perms":15},{"id":2,"asn":64501,"perms":1}]}"#;

    fn customer(id: i64, asn: u32) -> Customer {
        Customer { id, asns: vec![asn], kind: CustomerKind::Full, status: CustomerStatus::Active, peeringdb_login: true, max_role: None, require_mfa: false }
    }

    const ASSURED: Assurance = Assurance { policy: MfaPolicy::Admins, second_factor: true };

    fn account(id: i64) -> Account {
        Account { id, is_superadmin: false, disabled: false, peeringdb_login_allowed: true }
    }

    #[test]
    fn unverified_users_and_emails_are_refused_before_anything_else() {
        let refusal = |json: &str| verify(&profile(json)).map(|v| v.email);
        assert_eq!(refusal(r#"{"id":1,"verified_user":false,"email":"a@b","verified_email":true}"#), Err(Refusal::UserNotVerified));
        assert_eq!(refusal(r#"{"id":1,"verified_user":true,"email":"a@b","verified_email":false}"#), Err(Refusal::EmailNotVerified));
        assert_eq!(refusal(r#"{"id":1,"verified_user":true,"verified_email":true}"#), Err(Refusal::NoEmail));
        assert_eq!(refusal(r#"{"id":1,"verified_user":true,"email":" a@b ","verified_email":true}"#), Ok("a@b".to_string()));
    }

    #[test]
    fn a_first_login_creates_an_account_named_after_the_person() {
        let p = profile(ALICE);
        let v = verify(&p).unwrap();
        let d = decide(&v, None, &[customer(1, 64500), customer(2, 64501)], &[], RolePolicy::Perms, ASSURED);
        let Decision::SignIn { account, plan, .. } = d else { panic!("{d:?}") };
        assert_eq!(account, AccountChange::Create { username_base: "alice.anders".into() });
        assert_eq!(plan.add, vec![(1, Role::Admin), (2, Role::Member)]);
    }

    #[test]
    fn superadmins_disabled_and_opted_out_accounts_are_refused_without_deprovisioning() {
        let p = profile(ALICE);
        let v = verify(&p).unwrap();
        let existing = [Existing { customer_id: 1, role: Role::Admin, source: Source::Peeringdb }];
        for (a, refusal) in [
            (Account { is_superadmin: true, ..account(7) }, Refusal::Superadmin),
            (Account { disabled: true, ..account(7) }, Refusal::Disabled),
            (Account { peeringdb_login_allowed: false, ..account(7) }, Refusal::UserOptedOut),
        ] {
            assert_eq!(decide(&v, Some(a), &[customer(1, 64500)], &existing, RolePolicy::Perms, ASSURED), Decision::Refuse { refusal, deprovision: None });
        }
    }

    #[test]
    fn a_new_person_without_a_customer_is_refused_and_nothing_is_written() {
        let p = profile(ALICE);
        let v = verify(&p).unwrap();
        let d = decide(&v, None, &[], &[], RolePolicy::Perms, ASSURED);
        assert_eq!(d, Decision::Refuse { refusal: Refusal::NoCustomer { asns: vec![64500, 64501] }, deprovision: None });
    }

    #[test]
    fn an_account_that_lost_every_customer_is_refused_and_deprovisioned() {
        let p = profile(r#"{"id":1001,"verified_user":true,"email":"a@b","verified_email":true,"networks":[]}"#);
        let v = verify(&p).unwrap();
        let existing = [Existing { customer_id: 1, role: Role::Admin, source: Source::Peeringdb }];
        let d = decide(&v, Some(account(7)), &[customer(1, 64500)], &existing, RolePolicy::Perms, ASSURED);
        let Decision::Refuse { refusal, deprovision: Some((7, plan)) } = d else { panic!("{d:?}") };
        assert_eq!(refusal, Refusal::NoCustomer { asns: vec![] });
        assert_eq!(plan.remove, vec![1]);
    }

    #[test]
    fn a_customer_that_opted_out_is_named_as_the_reason() {
        let p = profile(ALICE);
        let v = verify(&p).unwrap();
        let mut opted_out = customer(1, 64500);
        opted_out.peeringdb_login = false;
        let d = decide(&v, None, &[opted_out], &[], RolePolicy::Perms, ASSURED);
        assert_eq!(d, Decision::Refuse { refusal: Refusal::CustomerOptedOut, deprovision: None });
    }

    fn without_mfa(policy: MfaPolicy) -> Assurance {
        Assurance { policy, second_factor: false }
    }

    #[test]
    fn with_the_admins_policy_a_login_without_a_second_factor_gets_member_and_is_told_why() {
        let p = profile(ALICE);
        let v = verify(&p).unwrap();
        let d = decide(&v, None, &[customer(1, 64500), customer(2, 64501)], &[], RolePolicy::Perms, without_mfa(MfaPolicy::Admins));
        let Decision::SignIn { plan, withheld, .. } = d else { panic!("{d:?}") };
        assert_eq!(plan.add, vec![(1, Role::Member), (2, Role::Member)]);
        assert_eq!(withheld, Withheld { lowered: vec![1], needs_mfa: vec![] });
        // An admin grant from an earlier login with MFA comes down to member.
        let existing = [Existing { customer_id: 1, role: Role::Admin, source: Source::Peeringdb }];
        let d = decide(&v, Some(account(7)), &[customer(1, 64500)], &existing, RolePolicy::Perms, without_mfa(MfaPolicy::Admins));
        let Decision::SignIn { plan, .. } = d else { panic!("{d:?}") };
        assert_eq!(plan.change_role, vec![(1, Role::Admin, Role::Member)]);
    }

    #[test]
    fn with_the_all_policy_a_login_without_a_second_factor_is_refused_and_nothing_is_taken() {
        let p = profile(ALICE);
        let v = verify(&p).unwrap();
        let existing = [Existing { customer_id: 1, role: Role::Admin, source: Source::Peeringdb }];
        let d = decide(&v, Some(account(7)), &[customer(1, 64500)], &existing, RolePolicy::Perms, without_mfa(MfaPolicy::All));
        assert_eq!(d, Decision::Refuse { refusal: Refusal::MfaRequired, deprovision: None });
    }

    #[test]
    fn with_the_policy_off_a_login_without_a_second_factor_gets_what_peeringdb_vouches_for() {
        let p = profile(ALICE);
        let v = verify(&p).unwrap();
        let d = decide(&v, None, &[customer(1, 64500)], &[], RolePolicy::Perms, without_mfa(MfaPolicy::Off));
        let Decision::SignIn { plan, withheld, .. } = d else { panic!("{d:?}") };
        assert_eq!(plan.add, vec![(1, Role::Admin)]);
        assert!(withheld.is_empty());
    }

    #[test]
    fn a_customer_that_requires_mfa_gets_no_one_without_it_and_says_so() {
        let p = profile(ALICE);
        let v = verify(&p).unwrap();
        let strict = Customer { require_mfa: true, ..customer(1, 64500) };
        let existing = [Existing { customer_id: 1, role: Role::Admin, source: Source::Peeringdb }];
        let d = decide(&v, Some(account(7)), &[strict.clone(), customer(2, 64501)], &existing, RolePolicy::Perms, without_mfa(MfaPolicy::Off));
        let Decision::SignIn { plan, withheld, .. } = d else { panic!("{d:?}") };
        assert_eq!((plan.add, plan.remove), (vec![(2, Role::Member)], vec![1]));
        assert_eq!(withheld.needs_mfa, vec![1]);
        // When it was the only one, the refusal names MFA, not "no customer".
        let d = decide(&v, Some(account(7)), std::slice::from_ref(&strict), &existing, RolePolicy::Perms, without_mfa(MfaPolicy::Off));
        let Decision::Refuse { refusal: Refusal::MfaRequired, deprovision: Some((7, plan)) } = d else { panic!("{d:?}") };
        assert_eq!(plan.remove, vec![1]);
        // With a second factor it is like any other customer.
        let d = decide(&v, None, &[strict], &[], RolePolicy::Perms, ASSURED);
        let Decision::SignIn { plan, .. } = d else { panic!("{d:?}") };
        assert_eq!(plan.add, vec![(1, Role::Admin)]);
    }

    #[test]
    fn the_notice_says_what_a_second_factor_would_have_given() {
        assert_eq!(
            changes_notice(&["Alpha Net".into()], &[], &["Alpha Net".into()], &["Gamma".into()]).unwrap(),
            "Access added: Alpha Net. You have member rights only at Alpha Net: admin rights need a PeeringDB login with a second factor. \
             Gamma requires a PeeringDB login with a second factor: log in with one to get access."
        );
    }

    #[test]
    fn linking_by_email_needs_exactly_one_account_that_is_not_a_superadmin() {
        assert_eq!(link_candidate(&[account(3)]), Some(account(3)));
        assert_eq!(link_candidate(&[]), None);
        assert_eq!(link_candidate(&[account(3), account(4)]), None);
        assert_eq!(link_candidate(&[Account { is_superadmin: true, ..account(3) }]), None);
    }

    #[test]
    fn no_customer_names_the_asns_in_the_redirect() {
        assert_eq!(Refusal::NoCustomer { asns: vec![64500, 64501] }.location(), "/login?error=pdb_no_customer&asns=64500,64501");
        assert_eq!(Refusal::NoCustomer { asns: vec![] }.location(), "/login?error=pdb_no_customer");
        assert_eq!(Refusal::UserOptedOut.location(), "/login?error=pdb_user_opted_out");
    }

    #[test]
    fn every_refusal_code_is_its_reason_with_the_pdb_prefix() {
        for r in [Refusal::UserNotVerified, Refusal::EmailNotVerified, Refusal::NoEmail, Refusal::Superadmin, Refusal::Disabled,
                  Refusal::UserOptedOut, Refusal::CustomerOptedOut, Refusal::NoCustomer { asns: vec![] }, Refusal::MfaRequired] {
            assert_eq!(r.code().as_str(), format!("pdb_{}", r.reason()));
        }
    }

    #[test]
    fn the_person_lands_where_they_asked_else_on_the_picker_when_there_is_a_choice() {
        assert_eq!(landing(Some("/account".into()), 3), "/account");
        assert_eq!(landing(None, 3), "/choose");
        assert_eq!(landing(None, 1), "/");
    }

    #[test]
    fn the_notice_says_what_changed() {
        assert_eq!(
            changes_notice(&["Alpha Net".into()], &["Beta Net".into()], &[], &[]).unwrap(),
            "Access added: Alpha Net. Removed: Beta Net — PeeringDB no longer lists you there."
        );
        assert_eq!(changes_notice(&[], &[], &[], &[]), None);
        let many: Vec<String> = (0..60).map(|i| format!("N{i}")).collect();
        assert_eq!(changes_notice(&many, &[], &[], &[]).unwrap(), "Access added: N0, N1, N2, N3, N4 and 55 more.");
    }
}
