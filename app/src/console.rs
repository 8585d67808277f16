//! Types of the admin console, the customer-admin view and the account page.
//! Like `model`, every value here may reach the browser: no secrets, no
//! password hashes, no tokens.

use serde::{Deserialize, Serialize};

use crate::{Actor, AuditEvent, CreatedVia, CustomerKind, CustomerStatus, Role, Source};

/// Rows per page in every console list.
pub const PAGE_SIZE: u32 = 50;

/// One page of a longer list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    /// Zero-based.
    pub page: u32,
}

impl<T> Page<T> {
    pub fn pages(&self) -> u32 {
        let total = u32::try_from(self.total.max(0)).unwrap_or(u32::MAX);
        total.div_ceil(PAGE_SIZE).max(1)
    }
}

/// A customer as the console lists and edits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerItem {
    pub id: i64,
    pub name: String,
    pub shortname: String,
    pub asns: Vec<u32>,
    pub kind: CustomerKind,
    pub status: CustomerStatus,
    pub peeringdb_login: bool,
    pub peeringdb_max_role: Option<Role>,
    /// Only PeeringDB logins with a second factor are admitted.
    pub peeringdb_require_mfa: bool,
    /// The operator keeps the customer's admins from changing its
    /// PeeringDB login and role cap.
    pub peeringdb_locked: bool,
    /// People with access (any source).
    pub users: i64,
}

/// The CSV import form, posted to the import page itself, which shows its
/// preview (the server reads the form and hands it to the page).
#[derive(Clone, Debug, Default)]
pub struct PostedImport {
    pub csv: String,
    pub allow_reserved: bool,
}

/// What the import preview found: the rows it would write, or every bad row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub rows: Vec<ImportRow>,
    /// `(line, problem)`; when not empty nothing can be imported.
    pub errors: Vec<(u64, String)>,
    /// True once the rows were written.
    pub committed: bool,
}

impl ImportPreview {
    /// (customers created, customers updated) by these rows.
    pub fn counts(&self) -> (usize, usize) {
        counts(&self.rows)
    }
}

fn counts(rows: &[ImportRow]) -> (usize, usize) {
    let new = rows.iter().filter(|r| r.new).count();
    (new, rows.len() - new)
}

/// The IX-F import form, posted to its page for the preview as the CSV
/// one is. An export is pasted or named by its URL.
#[derive(Clone, Debug, Default)]
pub struct PostedIxf {
    pub json: String,
    pub url: String,
    /// As typed: the page shows it back.
    pub ixp_id: String,
    pub allow_reserved: bool,
}

/// What an IX-F import would do (or did) at one exchange of an export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IxfPreview {
    /// The exchange read: its `ixp_id` and name in the export.
    pub ixp: Option<(i64, String)>,
    pub rows: Vec<ImportRow>,
    /// Shortnames of the customers the export does not list at this
    /// exchange: kept, for the operator to look at.
    pub missing: Vec<String>,
    /// The export's problems, each naming its place in the JSON; when not
    /// empty nothing can be imported.
    pub errors: Vec<String>,
    /// The SHA-256 (base64url) of the export previewed. The import posts it
    /// back and writes only if the export it reads is still that one.
    pub digest: String,
    /// True once the rows were written.
    pub committed: bool,
}

impl IxfPreview {
    /// (customers created, customers updated) by these rows.
    pub fn counts(&self) -> (usize, usize) {
        counts(&self.rows)
    }
}

/// The IX-F import as the server function takes it.
#[derive(Clone, Debug, Default)]
pub struct IxfForm {
    /// The export itself, or empty when `url` names it.
    pub json: String,
    pub url: String,
    pub ixp_id: Option<i64>,
    pub allow_reserved: bool,
    /// The preview's digest, when importing.
    pub digest: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRow {
    pub shortname: String,
    pub name: String,
    pub asns: Vec<u32>,
    pub kind: CustomerKind,
    pub status: CustomerStatus,
    pub peeringdb_login: bool,
    /// True when the shortname is new (created), false when it updates one.
    pub new: bool,
}

/// A user as the console lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserItem {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub is_superadmin: bool,
    pub disabled: bool,
    pub peeringdb_id: Option<i64>,
    pub created_via: CreatedVia,
    pub last_login: Option<String>,
    pub customers: i64,
}

/// One customer a user has access to, and who vouches for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affiliation {
    pub customer_id: i64,
    pub customer: String,
    pub shortname: String,
    /// Only an active customer's grants give access; others stay, dormant.
    pub customer_status: CustomerStatus,
    pub role: Role,
    pub source: Source,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: UserItem,
    /// The PeeringDB link between logins, when the user is linked.
    pub peeringdb_link: Option<LinkStatus>,
    pub peeringdb_login_allowed: bool,
    pub has_password: bool,
    /// Two-factor authentication is on (password accounts).
    pub two_factor: bool,
    pub created_at: String,
    pub affiliations: Vec<Affiliation>,
    pub recent: Vec<AuditItem>,
}

/// One line of the audit log, with names resolved for reading.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditItem {
    pub id: i64,
    pub at: String,
    pub actor: Actor,
    /// Who did it, as people read it: a person's name, "PeeringDB",
    /// "the command line"…
    pub actor_name: Option<String>,
    /// The row as a sentence (`domain::audit::sentence`); the recorded
    /// JSON stays in `details` and the CSV export.
    pub summary: String,
    pub event: AuditEvent,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub customer_id: Option<i64>,
    pub customer: Option<String>,
    pub details: String,
    pub ip: Option<String>,
}

/// Filters of the audit log page; every field optional (empty = any).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    /// Username (exact, case-insensitive).
    pub user: String,
    /// Customer shortname (exact).
    pub customer: String,
    /// Event name, or a prefix ending in `.` (`login.`).
    pub event: String,
    /// `YYYY-MM-DD`, inclusive, UTC.
    pub from: String,
    /// `YYYY-MM-DD`, inclusive, UTC.
    pub to: String,
}

impl AuditFilter {
    /// The filter as a query string, for the CSV link and the pager.
    pub fn query(&self) -> String {
        let pairs = [("user", &self.user), ("customer", &self.customer), ("event", &self.event), ("from", &self.from), ("to", &self.to)];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", crate::encode_query_component(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Logins over the last 30 days, as the console's charts show them. The
/// charts come drawn (SVG made on the server): no chart code in the bundle.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginActivity {
    /// Oldest first, one per day, days without logins included.
    pub days: Vec<DayLogins>,
    /// Refusals by reason over the same days, most frequent first.
    pub refusals: Vec<(String, u64)>,
    pub logins_svg: String,
    pub refusals_svg: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayLogins {
    pub date: String,
    pub password: u64,
    pub peeringdb: u64,
    pub refused: u64,
}

/// Outgoing mail as the console shows it: the envelopes, never the bodies
/// (a body may hold a single-use link).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailStatus {
    /// `PEERPORTAL_SMTP_URL` is set.
    pub on: bool,
    /// The SMTP server, without its password, and the sender.
    pub server: String,
    pub from: String,
    /// Every mail not sent yet, oldest first.
    pub queued: Vec<MailItem>,
    /// The last mails sent, newest first.
    pub sent: Vec<MailItem>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailItem {
    pub id: i64,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub created: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// When it was sent, or when it is tried next.
    pub when: String,
}

/// The PeeringDB integration as the IXP sees it. The client secret is not
/// here on purpose: it never leaves the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeeringDbStatus {
    pub enabled: bool,
    /// "every 24 h", or why there is no background re-sync.
    pub resync: String,
    pub requests_per_minute: u32,
    /// The last background sweep's audit row.
    pub last_sweep: Option<AuditItem>,
    /// When the next user falls due for a re-sync.
    pub next_due: Option<String>,
    pub links_synced: i64,
    pub links_stale: i64,
    /// Links whose last re-sync attempt failed at PeeringDB.
    pub links_failing: i64,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub oauth_url: Option<String>,
    pub role_policy: Option<String>,
    /// Whether ID tokens are checked (`PEERINGDB_OIDC`).
    pub id_tokens: Option<String>,
    /// `PEERINGDB_REQUIRE_MFA`, in words.
    pub mfa_policy: Option<String>,
    pub link_by_email: bool,
    pub last_success: Option<AuditItem>,
    pub last_failure: Option<AuditItem>,
    pub linked_users: i64,
    pub peeringdb_grants: i64,
    pub customers_opted_out: i64,
}

/// A user's PeeringDB link as the console shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStatus {
    pub last_synced: Option<String>,
    /// Since when PeeringDB refuses the link's refresh token.
    pub stale_since: Option<String>,
    pub last_error: Option<String>,
    /// False until the person's next PeeringDB login keeps a token.
    pub has_token: bool,
}

/// Who can act for a customer, for that customer's admins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub source: Source,
    pub since: String,
    /// Why the person has access, in words: who granted it by hand, or
    /// when PeeringDB last vouched for it.
    pub why: String,
}

/// An invitation not yet accepted, as the customer's admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationItem {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub expires: String,
}

/// What `/invitation/:token` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub customer: String,
    pub role: Role,
    pub email: String,
    pub invited_by: Option<String>,
    /// Why it cannot be accepted (used, expired, withdrawn, or the
    /// signed-in account has another email), or `None`.
    pub refusal: Option<String>,
    /// The signed-in person's username, if any.
    pub signed_in_as: Option<String>,
    /// "Login with PeeringDB" is on, for the invitee to accept with it.
    pub peeringdb_login: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAccess {
    pub customer_id: i64,
    pub customer: String,
    /// The customer admits only PeeringDB logins with a second factor.
    pub require_mfa: bool,
    pub entries: Vec<AccessEntry>,
    /// Login with PeeringDB is on for this customer, and its role cap.
    pub peeringdb_login: bool,
    pub peeringdb_max_role: Option<Role>,
    /// The operator keeps the two above for itself.
    pub peeringdb_locked: bool,
    /// The exchange sends mail: invitations can go out.
    pub mail: bool,
    pub invitations: Vec<InvitationItem>,
}

/// The account page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub name: String,
    pub email: String,
    pub created_via: CreatedVia,
    pub created_at: String,
    pub peeringdb_id: Option<i64>,
    pub peeringdb_login_allowed: bool,
    pub has_password: bool,
    /// Live sessions, most recently seen first.
    pub sessions: Vec<SessionItem>,
    pub history: Vec<AuditItem>,
}

/// A person's two-factor authentication, as `/account/2fa` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactor {
    pub enabled: bool,
    /// The exchange requires it of this account (`PEERPORTAL_REQUIRE_2FA`).
    pub required: bool,
    /// Unused recovery codes.
    pub recovery_left: i64,
    /// An enrolment waiting for its first code.
    pub enrolment: Option<Enrolment>,
    /// The recovery codes just made, shown this once.
    pub new_recovery_codes: Vec<String>,
}

/// What the authenticator app needs: the secret as a QR code (SVG made on
/// the server) and as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    /// Base32, as apps take it typed in.
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// One live session of a person, as their account page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionItem {
    /// Names the session for "End" (a hash of its id, never the id).
    pub handle: String,
    /// "Firefox on Linux".
    pub browser: String,
    pub ip: Option<String>,
    pub started: String,
    pub last_seen: String,
    /// The session of the browser looking at the page.
    pub current: bool,
}

/// The customer form as submitted (text as typed; the server validates).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerForm {
    /// `None` creates a customer.
    pub id: Option<i64>,
    pub name: String,
    pub shortname: String,
    pub asns: String,
    pub kind: String,
    pub status: String,
    pub peeringdb_login: bool,
    pub max_role: Option<Role>,
    pub require_mfa: bool,
    /// Only the operator changes the PeeringDB settings (`peeringdb_locked`).
    pub peeringdb_locked: bool,
    pub allow_reserved: bool,
}

/// A local account created by a superadmin (the password travels apart).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserForm {
    pub username: String,
    pub name: String,
    pub email: String,
    pub superadmin: bool,
}

/// Reads an HTML checkbox: present (any value but "false"/"off") means on.
pub fn checkbox(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !matches!(v, "" | "false" | "off" | "0"))
}
