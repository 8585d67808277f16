//! Types shared by the server and the browser. Nothing here may hold a
//! secret: every value of these types can end up in HTML or the WASM bundle.

use serde::{Deserialize, Serialize};

use crate::{Role, Source};

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
    /// Two-factor must be set up before anything else.
    pub must_set_up_2fa: bool,
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
    /// Mail is configured: the login page offers a password reset.
    pub mail: bool,
    /// Where people write for help (`PEERPORTAL_SUPPORT_EMAIL`).
    pub support_email: Option<String>,
}
