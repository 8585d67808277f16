//! Types shared by the server and the browser. Nothing here may hold a
//! secret: every value of these types can end up in HTML or the WASM bundle.

use serde::{Deserialize, Serialize};

/// What a person may do on one customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    Member,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Who vouches for an affiliation: an IXP admin, or PeeringDB at the last login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Source {
    Manual,
    Peeringdb,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Peeringdb => "peeringdb",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        match s {
            "manual" => Some(Source::Manual),
            "peeringdb" => Some(Source::Peeringdb),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Peeringdb => "PeeringDB",
        }
    }
}

/// One customer the signed-in person has access to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub customer_id: i64,
    pub name: String,
    pub shortname: String,
    pub asns: Vec<u32>,
    pub role: Role,
    pub source: Source,
}

/// The signed-in person, as the pages see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub is_superadmin: bool,
    pub memberships: Vec<Membership>,
    /// The customer chosen in this session, if any.
    pub current_customer: Option<i64>,
    /// A one-time notice from the last login ("Access added: …").
    pub flash: Option<String>,
}

impl Me {
    pub fn current(&self) -> Option<&Membership> {
        let id = self.current_customer?;
        self.memberships.iter().find(|m| m.customer_id == id)
    }
}

/// Operator settings the login page needs. Public by construction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub peeringdb_login: bool,
    pub demo: bool,
}

/// Formats an ASN list the way network engineers write it: "AS64500, AS64501".
pub fn format_asns(asns: &[u32]) -> String {
    asns.iter().map(|a| format!("AS{a}")).collect::<Vec<_>>().join(", ")
}
