//! Who may act for which customer, and what PeeringDB vouches for.
//!
//! [`plan`] is the rule of a PeeringDB login and of every re-sync: from the
//! person's PeeringDB networks, the customers holding those ASNs and the
//! person's affiliations today, what to add, change and remove. It never
//! touches an affiliation an admin granted by hand.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::customer::{CustomerKind, CustomerStatus};

words! {
    /// What a person may do on one customer. `Admin` ranks above `Member`.
    /// Between server and browser a role travels as its variant name
    /// (`"Admin"`, serde's default); stored, shown and audited it is its
    /// word (`as_str`). The same holds for [`Source`].
    #[derive(Serialize, Deserialize)]
    pub enum Role ("role") {
        Member = "member",
        Admin = "admin",
    }
}

words! {
    /// Who vouches for an affiliation: an IXP admin, or PeeringDB at the
    /// person's last login.
    #[derive(Serialize, Deserialize)]
    pub enum Source ("source") {
        Manual = "manual",
        Peeringdb = "peeringdb",
    }
}

impl Source {
    /// The source as people read it.
    pub fn label(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Peeringdb => "PeeringDB",
        }
    }
}

words! {
    /// How PeeringDB permissions turn into roles (`PEERINGDB_ROLE_POLICY`).
    pub enum RolePolicy ("role policy") {
        /// Update bit → admin, read bit only → member, 0 → nothing.
        Perms = "perms",
        /// Everyone PeeringDB lists is a member.
        Member = "member",
        /// Everyone PeeringDB lists is an admin.
        Admin = "admin",
    }
}

impl RolePolicy {
    /// The policy as the PeeringDB status page explains it.
    pub fn description(self) -> &'static str {
        match self {
            RolePolicy::Perms => "perms (update bit → admin, read bit → member)",
            RolePolicy::Member => "member (everyone a member)",
            RolePolicy::Admin => "admin (everyone an admin)",
        }
    }
}

/// PeeringDB's CRUD bits (the order of PeeringDB's code, not of its docs diagram).
pub const PERM_READ: u8 = 1;
pub const PERM_UPDATE: u8 = 2;

/// One network from the PeeringDB profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    pub asn: u32,
    pub perms: u8,
}

/// A customer as the planner needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    pub id: i64,
    pub asns: Vec<u32>,
    pub kind: CustomerKind,
    pub status: CustomerStatus,
    pub peeringdb_login: bool,
    pub max_role: Option<Role>,
    /// Only PeeringDB logins with a second factor are vouched for here.
    pub require_mfa: bool,
}

impl Customer {
    /// Only active full or pro-bono members that did not opt out.
    pub fn eligible(&self) -> bool {
        self.why_not_eligible().is_none()
    }

    /// Why PeeringDB cannot vouch for anyone on this customer, as the
    /// audit log says it; `None` when it can.
    pub fn why_not_eligible(&self) -> Option<&'static str> {
        if self.status == CustomerStatus::Suspended {
            Some("customer suspended")
        } else if self.status == CustomerStatus::Left {
            Some("customer has left")
        } else if !self.kind.may_log_in_with_peeringdb() {
            Some("customer type without PeeringDB login")
        } else if !self.peeringdb_login {
            Some("PeeringDB login switched off for the customer")
        } else {
            None
        }
    }
}

/// An affiliation the user has now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Existing {
    pub customer_id: i64,
    pub role: Role,
    pub source: Source,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantPlan {
    pub add: Vec<(i64, Role)>,
    /// (customer, from, to)
    pub change_role: Vec<(i64, Role, Role)>,
    pub remove: Vec<i64>,
    /// Affiliations left as they are (manual ones and unchanged PeeringDB ones).
    pub keep: Vec<i64>,
    /// Manual affiliations of customers that are not active: left as they
    /// are (they hold again when the customer is active again), but no
    /// access meanwhile.
    pub dormant: Vec<i64>,
}

impl GrantPlan {
    pub fn is_noop(&self) -> bool {
        self.add.is_empty() && self.change_role.is_empty() && self.remove.is_empty()
    }

    /// The customers the user can act for once the plan is applied.
    fn customers_after_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.add.iter().map(|a| a.0).chain(self.change_role.iter().map(|c| c.0)).chain(self.keep.iter().copied())
    }

    /// How many customers the user can act for once the plan is applied.
    pub fn customers_after(&self) -> usize {
        self.customers_after_ids().count()
    }

    /// The customer, when the user can act for exactly one once the plan
    /// is applied: the login then skips the picker without another query.
    pub fn sole_customer_after(&self) -> Option<i64> {
        let mut after = self.customers_after_ids();
        match (after.next(), after.next()) {
            (Some(id), None) => Some(id),
            _ => None,
        }
    }
}

/// The role one network's permissions give; `None` means no access.
pub fn role_for(perms: u8, policy: RolePolicy) -> Option<Role> {
    // perms 0: PeeringDB lists the network but grants nothing on it.
    if perms == 0 {
        return None;
    }
    match policy {
        RolePolicy::Member => Some(Role::Member),
        RolePolicy::Admin => Some(Role::Admin),
        RolePolicy::Perms if perms & PERM_UPDATE != 0 => Some(Role::Admin),
        RolePolicy::Perms if perms & PERM_READ != 0 => Some(Role::Member),
        RolePolicy::Perms => None,
    }
}

/// What PeeringDB vouches for: customer → role, over every eligible
/// customer holding any of the networks (several ASNs per customer, several
/// customers per ASN; the highest role wins; the customer's cap applies).
pub fn vouched(networks: &[Network], customers: &[Customer], policy: RolePolicy) -> BTreeMap<i64, Role> {
    let mut by_asn: HashMap<u32, Role> = HashMap::new();
    for n in networks {
        if let Some(role) = role_for(n.perms, policy) {
            let entry = by_asn.entry(n.asn).or_insert(role);
            *entry = (*entry).max(role);
        }
    }
    let mut out = BTreeMap::new();
    for c in customers.iter().filter(|c| c.eligible()) {
        let best = c.asns.iter().filter_map(|a| by_asn.get(a)).max().copied();
        if let Some(role) = best {
            let role = c.max_role.map_or(role, |cap| role.min(cap));
            out.insert(c.id, role);
        }
    }
    out
}

/// The plan. `customers` must include every customer that holds one of the
/// networks' ASNs; customers of existing PeeringDB affiliations that are
/// missing from it count as no longer vouched for.
pub fn plan(networks: &[Network], customers: &[Customer], existing: &[Existing], policy: RolePolicy) -> GrantPlan {
    let mut wanted = vouched(networks, customers, policy);
    let mut plan = GrantPlan::default();
    for e in existing {
        match e.source {
            // Granted by an admin: PeeringDB neither adds to nor takes from it.
            Source::Manual => {
                wanted.remove(&e.customer_id);
                plan.keep.push(e.customer_id);
            }
            Source::Peeringdb => match wanted.remove(&e.customer_id) {
                Some(role) if role == e.role => plan.keep.push(e.customer_id),
                Some(role) => plan.change_role.push((e.customer_id, e.role, role)),
                None => plan.remove.push(e.customer_id),
            },
        }
    }
    plan.add = wanted.into_iter().collect();
    let inactive: Vec<i64> = customers.iter().filter(|c| c.status != CustomerStatus::Active).map(|c| c.id).collect();
    plan.keep.retain(|id| {
        let dormant = inactive.contains(id);
        if dormant {
            plan.dormant.push(*id);
        }
        !dormant
    });
    plan.dormant.sort_unstable();
    plan.keep.sort_unstable();
    plan.remove.sort_unstable();
    plan.change_role.sort_unstable();
    plan
}

/// What an IXP change to one customer (status, type, PeeringDB switch,
/// role cap) does at once to the PeeringDB grants on it, without asking
/// PeeringDB: a grant whose customer is no longer eligible goes, one above
/// the cap comes down to it. What PeeringDB itself changed is the re-sync's
/// and the next login's business.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Withdrawal {
    /// Users whose PeeringDB grant goes.
    pub remove: Vec<i64>,
    /// (user, from, to): PeeringDB grants lowered to the cap.
    pub lower: Vec<(i64, Role, Role)>,
    /// Why the grants go (or, when none goes, why roles come down), for
    /// the audit log; a lowered role's reason is always [`CAPPED`].
    pub why: &'static str,
}

impl Withdrawal {
    pub fn is_noop(&self) -> bool {
        self.remove.is_empty() && self.lower.is_empty()
    }
}

/// Why a withdrawal lowers a role.
pub const CAPPED: &str = "role capped for the customer";

/// A PeeringDB grant as a withdrawal sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeeringdbGrant {
    pub user_id: i64,
    pub role: Role,
    /// The person's last PeeringDB login used a second factor.
    pub mfa: bool,
}

/// The withdrawal for `customer` as it is now, given its PeeringDB grants.
pub fn withdraw(customer: &Customer, peeringdb_grants: &[PeeringdbGrant]) -> Withdrawal {
    let all = |why| {
        let mut remove: Vec<i64> = peeringdb_grants.iter().map(|g| g.user_id).collect();
        remove.sort_unstable();
        Withdrawal { remove, lower: Vec::new(), why }
    };
    if let Some(why) = customer.why_not_eligible() {
        return all(why);
    }
    let mut remove: Vec<i64> = if customer.require_mfa {
        peeringdb_grants.iter().filter(|g| !g.mfa).map(|g| g.user_id).collect()
    } else {
        Vec::new()
    };
    remove.sort_unstable();
    let mut lower: Vec<(i64, Role, Role)> = match customer.max_role {
        Some(cap) => peeringdb_grants.iter().filter(|g| g.role > cap && !remove.contains(&g.user_id)).map(|g| (g.user_id, g.role, cap)).collect(),
        None => Vec::new(),
    };
    lower.sort_unstable();
    let why = if remove.is_empty() { CAPPED } else { "the customer requires a PeeringDB login with a second factor" };
    Withdrawal { remove, lower, why }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sole_customer_is_known_only_when_there_is_exactly_one() {
        let plan = |add: Vec<(i64, Role)>, keep: Vec<i64>| GrantPlan { add, keep, ..GrantPlan::default() };
        assert_eq!(plan(vec![(7, Role::Admin)], vec![]).sole_customer_after(), Some(7));
        assert_eq!(plan(vec![], vec![9]).sole_customer_after(), Some(9));
        assert_eq!(plan(vec![(7, Role::Admin)], vec![9]).sole_customer_after(), None);
        assert_eq!(plan(vec![], vec![]).sole_customer_after(), None);
        let removed_only = GrantPlan { remove: vec![3], ..GrantPlan::default() };
        assert_eq!(removed_only.sole_customer_after(), None);
    }

    fn customer(id: i64, asns: &[u32]) -> Customer {
        Customer { id, asns: asns.to_vec(), kind: CustomerKind::Full, status: CustomerStatus::Active, peeringdb_login: true, max_role: None, require_mfa: false }
    }

    fn net(asn: u32, perms: u8) -> Network {
        Network { asn, perms }
    }

    fn pdb(customer_id: i64, role: Role) -> Existing {
        Existing { customer_id, role, source: Source::Peeringdb }
    }

    fn manual(customer_id: i64, role: Role) -> Existing {
        Existing { customer_id, role, source: Source::Manual }
    }

    const P: RolePolicy = RolePolicy::Perms;

    #[test]
    fn update_bit_gives_admin_read_bit_member_zero_nothing() {
        assert_eq!(role_for(15, P), Some(Role::Admin));
        assert_eq!(role_for(3, P), Some(Role::Admin));
        assert_eq!(role_for(2, P), Some(Role::Admin));
        assert_eq!(role_for(1, P), Some(Role::Member));
        assert_eq!(role_for(0, P), None);
        // create/delete without update or read: nothing to act on.
        assert_eq!(role_for(4, P), None);
        assert_eq!(role_for(8, P), None);
    }

    #[test]
    fn fixed_policies_give_everyone_the_same_role() {
        assert_eq!(role_for(1, RolePolicy::Admin), Some(Role::Admin));
        assert_eq!(role_for(15, RolePolicy::Member), Some(Role::Member));
        assert_eq!(role_for(0, RolePolicy::Admin), None);
    }

    #[test]
    fn alice_gets_admin_of_alpha_and_member_of_beta() {
        let p = plan(&[net(64500, 15), net(64501, 1)], &[customer(1, &[64500]), customer(2, &[64501])], &[], P);
        assert_eq!(p.add, vec![(1, Role::Admin), (2, Role::Member)]);
        assert!(p.remove.is_empty() && p.change_role.is_empty() && p.keep.is_empty());
    }

    #[test]
    fn a_customer_reached_through_several_networks_gets_one_affiliation_with_the_highest_role() {
        let p = plan(&[net(64500, 1), net(64510, 15)], &[customer(1, &[64500, 64510])], &[], P);
        assert_eq!(p.add, vec![(1, Role::Admin)]);
    }

    #[test]
    fn several_customers_sharing_an_asn_are_all_granted() {
        let p = plan(&[net(64500, 1)], &[customer(1, &[64500]), customer(2, &[64500])], &[], P);
        assert_eq!(p.add, vec![(1, Role::Member), (2, Role::Member)]);
    }

    #[test]
    fn ineligible_customers_are_never_granted() {
        let mut suspended = customer(1, &[1]);
        suspended.status = CustomerStatus::Suspended;
        let mut left = customer(2, &[2]);
        left.status = CustomerStatus::Left;
        let mut associate = customer(3, &[3]);
        associate.kind = CustomerKind::Associate;
        let mut internal = customer(4, &[4]);
        internal.kind = CustomerKind::Internal;
        let mut opted_out = customer(5, &[5]);
        opted_out.peeringdb_login = false;
        let mut probono = customer(6, &[6]);
        probono.kind = CustomerKind::Probono;
        let networks: Vec<Network> = (1..=6).map(|a| net(a, 15)).collect();
        let p = plan(&networks, &[suspended, left, associate, internal, opted_out, probono], &[], P);
        assert_eq!(p.add, vec![(6, Role::Admin)]);
    }

    #[test]
    fn the_customers_role_cap_applies() {
        let mut capped = customer(1, &[64500]);
        capped.max_role = Some(Role::Member);
        let p = plan(&[net(64500, 15)], &[capped], &[], P);
        assert_eq!(p.add, vec![(1, Role::Member)]);
    }

    #[test]
    fn lost_network_removes_only_peeringdb_grants() {
        let customers = [customer(1, &[64500]), customer(2, &[64501]), customer(3, &[64502])];
        let existing = [pdb(1, Role::Admin), pdb(2, Role::Member), manual(3, Role::Admin)];
        let p = plan(&[net(64500, 15)], &customers, &existing, P);
        assert_eq!(p.remove, vec![2]);
        assert_eq!(p.keep, vec![1, 3]);
        assert!(p.add.is_empty());
    }

    #[test]
    fn a_manual_grant_is_never_changed_even_when_peeringdb_says_otherwise() {
        let p = plan(&[net(64500, 15)], &[customer(1, &[64500])], &[manual(1, Role::Member)], P);
        assert_eq!(p, GrantPlan { keep: vec![1], ..Default::default() });
    }

    #[test]
    fn changed_perms_change_the_role() {
        let p = plan(&[net(64500, 1)], &[customer(1, &[64500])], &[pdb(1, Role::Admin)], P);
        assert_eq!(p.change_role, vec![(1, Role::Admin, Role::Member)]);
    }

    #[test]
    fn perms_zero_or_opt_out_removes_an_existing_peeringdb_grant() {
        let p = plan(&[net(64500, 0)], &[customer(1, &[64500])], &[pdb(1, Role::Member)], P);
        assert_eq!(p.remove, vec![1]);
        let mut opted_out = customer(1, &[64500]);
        opted_out.peeringdb_login = false;
        let p = plan(&[net(64500, 15)], &[opted_out], &[pdb(1, Role::Admin)], P);
        assert_eq!(p.remove, vec![1]);
    }

    #[test]
    fn a_manual_grant_on_a_suspended_customer_stays_but_gives_no_access() {
        let mut suspended = customer(1, &[64500]);
        suspended.status = CustomerStatus::Suspended;
        let p = plan(&[net(64501, 15)], &[suspended, customer(2, &[64501])], &[manual(1, Role::Admin)], P);
        assert_eq!(p.dormant, vec![1]);
        assert!(p.keep.is_empty() && p.remove.is_empty());
        assert_eq!(p.sole_customer_after(), Some(2));
    }

    #[test]
    fn suspending_a_customer_withdraws_every_peeringdb_grant_on_it() {
        for status in [CustomerStatus::Suspended, CustomerStatus::Left] {
            let mut c = customer(1, &[64500]);
            c.status = status;
            let w = withdraw(&c, &[g(8, Role::Member), g(3, Role::Admin)]);
            assert_eq!(w.remove, vec![3, 8]);
            assert!(w.lower.is_empty());
            assert_eq!(w.why, c.why_not_eligible().unwrap());
        }
    }

    /// A PeeringDB grant of someone whose last login used a second factor.
    fn g(user_id: i64, role: Role) -> PeeringdbGrant {
        PeeringdbGrant { user_id, role, mfa: true }
    }

    #[test]
    fn requiring_mfa_withdraws_the_grants_of_people_whose_last_login_had_none() {
        let mut strict = customer(1, &[64500]);
        strict.require_mfa = true;
        strict.max_role = Some(Role::Member);
        let without = PeeringdbGrant { mfa: false, ..g(5, Role::Admin) };
        let w = withdraw(&strict, &[g(3, Role::Admin), without, g(8, Role::Member)]);
        assert_eq!(w.remove, vec![5]);
        assert_eq!(w.lower, vec![(3, Role::Admin, Role::Member)]);
        assert_eq!(w.why, "the customer requires a PeeringDB login with a second factor");
        assert!(withdraw(&strict, &[g(8, Role::Member)]).is_noop());
    }

    #[test]
    fn switching_peeringdb_login_off_withdraws_and_a_lower_cap_lowers() {
        let mut off = customer(1, &[64500]);
        off.peeringdb_login = false;
        assert_eq!(withdraw(&off, &[g(8, Role::Member)]).remove, vec![8]);
        let mut capped = customer(1, &[64500]);
        capped.max_role = Some(Role::Member);
        let w = withdraw(&capped, &[g(8, Role::Member), g(3, Role::Admin)]);
        assert_eq!(w, Withdrawal { remove: vec![], lower: vec![(3, Role::Admin, Role::Member)], why: "role capped for the customer" });
        assert!(withdraw(&customer(1, &[64500]), &[g(3, Role::Admin)]).is_noop());
    }

    #[test]
    fn a_peeringdb_grant_of_an_unlisted_customer_is_removed() {
        let p = plan(&[], &[], &[pdb(9, Role::Member)], P);
        assert_eq!(p.remove, vec![9]);
        assert_eq!(p.customers_after(), 0);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn arb_customer() -> impl Strategy<Value = Customer> {
            (
                1i64..30,
                prop::collection::vec(1u32..12, 1..3),
                prop::sample::select(CustomerKind::ALL.to_vec()),
                prop::sample::select(CustomerStatus::ALL.to_vec()),
                any::<bool>(),
                prop::option::of(prop::sample::select(vec![Role::Member, Role::Admin])),
            )
                .prop_map(|(id, asns, kind, status, peeringdb_login, max_role)| Customer {
                    id,
                    asns,
                    kind,
                    status,
                    peeringdb_login,
                    max_role,
                    require_mfa: false,
                })
        }

        fn arb_inputs() -> impl Strategy<Value = (Vec<Network>, Vec<Customer>, Vec<Existing>, RolePolicy)> {
            (
                prop::collection::vec((1u32..12, 0u8..16).prop_map(|(asn, perms)| Network { asn, perms }), 0..8),
                prop::collection::vec(arb_customer(), 0..10).prop_map(|mut cs| {
                    cs.sort_by_key(|c| c.id);
                    cs.dedup_by_key(|c| c.id);
                    cs
                }),
                prop::collection::btree_map(
                    1i64..30,
                    (prop::sample::select(vec![Role::Member, Role::Admin]), prop::sample::select(vec![Source::Manual, Source::Peeringdb])),
                    0..6,
                )
                .prop_map(|m| m.into_iter().map(|(customer_id, (role, source))| Existing { customer_id, role, source }).collect()),
                prop::sample::select(vec![RolePolicy::Perms, RolePolicy::Member, RolePolicy::Admin]),
            )
        }

        /// The affiliations after applying a plan.
        fn apply(existing: &[Existing], p: &GrantPlan) -> Vec<Existing> {
            let mut out: Vec<Existing> = existing.iter().filter(|e| !p.remove.contains(&e.customer_id)).copied().collect();
            for e in &mut out {
                if let Some((_, _, to)) = p.change_role.iter().find(|(c, _, _)| *c == e.customer_id) {
                    e.role = *to;
                }
            }
            out.extend(p.add.iter().map(|(c, r)| Existing { customer_id: *c, role: *r, source: Source::Peeringdb }));
            out.sort_by_key(|e| e.customer_id);
            out
        }

        proptest! {
            #[test]
            fn planning_twice_changes_nothing((networks, customers, existing, policy) in arb_inputs()) {
                let first = plan(&networks, &customers, &existing, policy);
                let after = apply(&existing, &first);
                let second = plan(&networks, &customers, &after, policy);
                prop_assert!(second.is_noop(), "second plan {second:?}");
            }

            #[test]
            fn manual_rows_are_never_touched((networks, customers, existing, policy) in arb_inputs()) {
                let p = plan(&networks, &customers, &existing, policy);
                for e in existing.iter().filter(|e| e.source == Source::Manual) {
                    prop_assert!(p.keep.contains(&e.customer_id) || p.dormant.contains(&e.customer_id));
                    prop_assert!(!p.remove.contains(&e.customer_id));
                    prop_assert!(!p.add.iter().any(|(c, _)| *c == e.customer_id));
                    prop_assert!(!p.change_role.iter().any(|(c, _, _)| *c == e.customer_id));
                }
            }

            #[test]
            fn ineligible_customers_are_never_granted_or_kept((networks, customers, existing, policy) in arb_inputs()) {
                let p = plan(&networks, &customers, &existing, policy);
                let after = apply(&existing, &p);
                for c in customers.iter().filter(|c| !c.eligible()) {
                    prop_assert!(!after.iter().any(|e| e.customer_id == c.id && e.source == Source::Peeringdb));
                }
            }

            #[test]
            fn granted_roles_respect_the_cap((networks, customers, existing, policy) in arb_inputs()) {
                let p = plan(&networks, &customers, &existing, policy);
                for (id, role) in p.add.iter().copied().chain(p.change_role.iter().map(|(c, _, r)| (*c, *r))) {
                    let c = customers.iter().find(|c| c.id == id).expect("granted customers come from the input");
                    prop_assert!(c.eligible());
                    if let Some(cap) = c.max_role { prop_assert!(role <= cap); }
                }
            }
        }
    }
}
