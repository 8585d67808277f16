//! The two routes of "Login with PeeringDB" (DESIGN §2) and the policy
//! around them. The pure pieces (callback checks, grant planning, profile
//! parsing) live beside this file; here is the IO, in the order the design
//! gives, with nothing written before every check has passed.

use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use oauth2::PkceCodeChallenge;
use serde_json::json;
use sha2::{Digest, Sha256};
use tower_sessions::cookie::{Cookie, SameSite};
use tower_sessions::Session;

use super::client::PeeringDbError;
use super::flow::{self, CallbackError, CallbackQuery, Pending};
use super::profile::{username_base, Profile};
use crate::backend::Portal;
use crate::db::now;
use crate::grants;
use crate::store::{self, AuditEntry};

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
}

impl Refusal {
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
        }
    }

    /// Where the browser goes: `/login` with the code the page explains.
    fn location(&self) -> String {
        match self {
            Refusal::NoCustomer { asns } if !asns.is_empty() => {
                let list = asns.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
                format!("/login?error=pdb_no_customer&asns={list}")
            }
            _ => format!("/login?error=pdb_{}", self.reason()),
        }
    }
}

/// The checks of DESIGN §2 step 4 that need only the profile.
pub fn check_profile(p: &Profile) -> Result<&str, Refusal> {
    if !p.verified_user {
        return Err(Refusal::UserNotVerified);
    }
    let email = p.email.as_deref().map(str::trim).filter(|e| e.contains('@')).ok_or(Refusal::NoEmail)?;
    if !p.verified_email {
        return Err(Refusal::EmailNotVerified);
    }
    Ok(email)
}

/// The cookie that binds a pending login to this browser.
fn binding_cookie_name(https: bool) -> &'static str {
    if https { "__Host-peerportal_pdb" } else { "peerportal_pdb" }
}

fn binding_cookie(https: bool, value: String, max_age: time::Duration) -> HeaderValue {
    let cookie = Cookie::build((binding_cookie_name(https), value))
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The binding cookie's value, parsed by the cookie crate tower-sessions uses.
fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// Storage key of a pending login: a hash, so a database leak gives no
/// usable browser binding.
fn pending_id(binding: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(binding.as_bytes()))
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

const SERVER_TIMING: header::HeaderName = header::HeaderName::from_static("server-timing");

/// How long the callback waited for PeeringDB (code exchange and profile),
/// as a `Server-Timing` entry: browsers' developer tools show it, and the
/// load driver subtracts it to get the portal's own time per callback.
fn server_timing(waited: std::time::Duration) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("peeringdb;dur={:.3};desc=\"token and profile\"", waited.as_secs_f64() * 1000.0)).ok()
}

fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

#[derive(Debug, serde::Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// `GET /auth/peeringdb/login`: remember a pending login server-side and
/// send the browser to PeeringDB.
pub async fn start(State(portal): State<Arc<Portal>>, Query(q): Query<StartQuery>) -> Response {
    let Some(client) = portal.peeringdb.as_ref() else {
        return (StatusCode::NOT_FOUND, "Login with PeeringDB is not enabled here.").into_response();
    };
    let binding = random_token();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let pending = store::PendingRow {
        state: random_token(),
        pkce_verifier: verifier.secret().to_string(),
        next_path: q.next.as_deref().and_then(app::auth::safe_next).map(str::to_owned),
        created_at: now(),
    };
    if let Err(e) = store::put_pending(&portal.db, &pending_id(&binding), &pending, pending.created_at + flow::PENDING_LIFETIME).await {
        tracing::error!(error = %e, "could not store a pending PeeringDB login");
        return found("/login?error=internal");
    }
    let url = client.authorize_url(&pending.state, challenge);
    let mut resp = found(url.as_str());
    resp.headers_mut().append(header::SET_COOKIE, binding_cookie(portal.config.https(), binding, flow::PENDING_LIFETIME));
    resp
}

/// `GET /auth/peeringdb/callback`.
pub async fn callback(
    State(portal): State<Arc<Portal>>,
    session: Session,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let ip = Some(peer.ip().to_string());
    let mut at_peeringdb = None;
    // Success and refusal both end in a redirect; only the target differs.
    let location = portal.peeringdb_callback(&session, &headers, query, ip.as_deref(), &mut at_peeringdb).await.unwrap_or_else(|to| to);
    let mut resp = found(&location);
    let https = portal.config.https();
    let h = resp.headers_mut();
    if let Some(t) = at_peeringdb.and_then(server_timing) {
        h.insert(SERVER_TIMING, t);
    }
    // The pending login is spent either way; drop the browser's half.
    h.append(header::SET_COOKIE, binding_cookie(https, String::new(), time::Duration::ZERO));
    // The URL carried a code: it must not leak through a Referer.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

impl Portal {
    async fn audit_refusal(&self, ip: Option<&str>, user_id: Option<i64>, reason: &str, extra: serde_json::Value) {
        let mut details = json!({ "via": "peeringdb", "reason": reason });
        if let (Some(d), serde_json::Value::Object(extra)) = (details.as_object_mut(), extra) {
            d.extend(extra);
        }
        let entry = AuditEntry { actor: "peeringdb".into(), event: "login.refused", user_id, customer_id: None, details, ip };
        if let Err(e) = store::audit_alone(&self.db, &entry).await {
            tracing::error!(error = %e, "could not audit a refused PeeringDB login");
        }
    }

    /// The callback's work; `Ok` and `Err` are both where to send the browser.
    /// `at_peeringdb` gets the time spent waiting for PeeringDB, when it was asked.
    #[tracing::instrument(skip_all)]
    async fn peeringdb_callback(
        &self,
        session: &Session,
        headers: &HeaderMap,
        query: CallbackQuery,
        ip: Option<&str>,
        at_peeringdb: &mut Option<std::time::Duration>,
    ) -> Result<String, String> {
        let Some(client) = self.peeringdb.as_ref() else {
            return Err("/login".into());
        };
        let internal = |e: &dyn std::fmt::Display| {
            tracing::error!(error = %e, "PeeringDB login failed inside PeerPortal");
            "/login?error=internal".to_string()
        };

        // 1. The pending login, taken out: single use whatever happens next.
        let binding = read_cookie(headers, binding_cookie_name(self.config.https()));
        let pending = match binding {
            Some(b) => store::take_pending(&self.db, &pending_id(&b)).await.map_err(|e| internal(&e))?,
            None => None,
        };
        let pending = pending.map(|p| Pending { state: p.state, pkce_verifier: p.pkce_verifier, next: p.next_path, created_at: p.created_at });
        let exchange = match flow::validate_callback(pending, &query, &client.issuer, now()) {
            Ok(x) => x,
            Err(e) => {
                tracing::info!(reason = %e, "PeeringDB callback refused before calling PeeringDB");
                let reason = match &e {
                    CallbackError::Cancelled => "cancelled".to_string(),
                    other => format!("{other}"),
                };
                self.audit_refusal(ip, None, e.code(), json!({ "detail": reason })).await;
                return Err(format!("/login?error={}", e.code()));
            }
        };

        // 2. Code → token → profile. The token lives only in this function.
        let asked = std::time::Instant::now();
        let fetched: Result<Profile, PeeringDbError> = async {
            let token = client.exchange(exchange.code, exchange.pkce_verifier).await?;
            client.profile(&token).await
        }
        .await;
        *at_peeringdb = Some(asked.elapsed());
        let profile = match fetched {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "PeeringDB login failed at PeeringDB");
                let mut extra = json!({ "detail": e.to_string() });
                let mut to = format!("/login?error={}", e.code());
                if let PeeringDbError::RateLimited { retry_after: Some(s) } = &e {
                    extra["retry_after"] = json!(s);
                    to.push_str(&format!("&retry={s}"));
                }
                self.audit_refusal(ip, None, e.code(), extra).await;
                return Err(to);
            }
        };

        // 3. Checks on the profile alone.
        let email = match check_profile(&profile) {
            Ok(e) => e.to_string(),
            Err(r) => {
                self.audit_refusal(ip, None, r.reason(), json!({ "peeringdb_id": profile.id })).await;
                return Err(r.location());
            }
        };

        // 4. Everything else in one transaction.
        match self.provision(&profile, &email, ip).await {
            Ok(Provisioned { user_id, added, removed, customers, sole_customer }) => {
                self.start_session(session, user_id, sole_customer).await.map_err(|e| internal(&e))?;
                let flash = flash_text(&added, &removed);
                if let Some(flash) = flash {
                    session.insert(crate::sessions::FLASH, flash).await.map_err(|e| internal(&e))?;
                }
                tracing::info!(user_id, customers, "PeeringDB login");
                Ok(exchange
                    .next
                    .unwrap_or_else(|| if customers > 1 { "/choose".to_string() } else { "/".to_string() }))
            }
            Err(ProvisionError::Refused(r, user_id)) => {
                self.audit_refusal(ip, user_id, r.reason(), json!({ "peeringdb_id": profile.id, "asns": profile.asns() })).await;
                Err(r.location())
            }
            Err(ProvisionError::Db(e)) => Err(internal(&e)),
        }
    }

    /// Creates or updates the user and reconciles grants, in one
    /// transaction. A refusal commits nothing, except de-provisioning an
    /// existing user who lost every customer.
    async fn provision(&self, profile: &Profile, email: &str, ip: Option<&str>) -> Result<Provisioned, ProvisionError> {
        let mut tx = self.db.begin().await?;
        // Two logins of one person at once (two tabs, two replicas) would
        // both find no account and both create one: take turns.
        tx.lock_key(profile.id).await?;
        let mut user = store::user_by_peeringdb_id(&mut tx, profile.id).await?;
        if user.is_none() && self.config.link_by_email {
            let mut candidates = store::unlinked_users_by_email(&mut tx, email).await?;
            if candidates.len() == 1 && !candidates[0].is_superadmin {
                user = candidates.pop();
            }
        }
        if let Some(u) = &user {
            let refusal = if u.is_superadmin {
                Some(Refusal::Superadmin)
            } else if u.disabled {
                Some(Refusal::Disabled)
            } else if !u.peeringdb_login_allowed {
                Some(Refusal::UserOptedOut)
            } else {
                None
            };
            if let Some(r) = refusal {
                return Err(ProvisionError::Refused(r, Some(u.id)));
            }
        }

        let user_id = user.as_ref().map(|u| u.id);
        let asns = profile.asns();
        let store::Planning { customers, existing, names } = store::planning(&mut tx, &asns, user_id).await?;
        let plan = grants::plan(&profile.grant_networks(), &customers, &existing, self.config.role_policy);

        if plan.customers_after() == 0 {
            let opted_out = customers.iter().any(|c| !c.peeringdb_login && c.asns.iter().any(|a| asns.contains(a)));
            let refusal = if opted_out { Refusal::CustomerOptedOut } else { Refusal::NoCustomer { asns } };
            if let Some(id) = user_id {
                // De-provisioning never waits for a successful login.
                store::apply_plan(&mut tx, id, &plan).await?;
                store::audit_all(&mut tx, &grant_audit(id, &plan, &names, ip)).await?;
                let ended = store::end_sessions_of(&mut tx, id).await?;
                tracing::info!(user_id = id, sessions_ended = ended, "user lost every PeeringDB customer");
                tx.commit().await?;
            }
            return Err(ProvisionError::Refused(refusal, user_id));
        }

        let name = profile.display_name();
        // The audit rows of this login, written together at the end.
        let mut audit = Vec::new();
        let user_id = match user {
            Some(u) => {
                store::refresh_from_peeringdb(&mut tx, u.id, &name, email, profile.id).await?;
                u.id
            }
            None => {
                let base = username_base(&name, profile.id);
                let mut username = base.clone();
                let mut n = 1;
                while store::username_taken(&mut tx, &username).await? {
                    n += 1;
                    username = format!("{base}{n}");
                }
                let id = store::insert_peeringdb_user(&mut tx, &username, &name, email, profile.id).await?;
                store::record_login(&mut tx, id, "peeringdb").await?;
                audit.push(AuditEntry {
                    actor: "peeringdb".into(),
                    event: "user.created",
                    user_id: Some(id),
                    customer_id: None,
                    details: json!({ "username": username, "peeringdb_id": profile.id }),
                    ip,
                });
                id
            }
        };
        store::apply_plan(&mut tx, user_id, &plan).await?;
        audit.extend(grant_audit(user_id, &plan, &names, ip));
        audit.push(AuditEntry {
            actor: format!("user:{user_id}"),
            event: "login.success",
            user_id: Some(user_id),
            customer_id: None,
            details: json!({ "via": "peeringdb", "peeringdb_id": profile.id, "mfa": profile.has_mfa() }),
            ip,
        });
        store::audit_all(&mut tx, &audit).await?;
        tx.commit().await?;
        let name_of = |id: &i64| names.get(id).cloned().unwrap_or_else(|| format!("customer {id}"));
        Ok(Provisioned {
            user_id,
            added: plan.add.iter().map(|(id, _)| name_of(id)).collect(),
            removed: plan.remove.iter().map(name_of).collect(),
            customers: plan.customers_after(),
            sole_customer: plan.sole_customer_after(),
        })
    }
}

/// One audit row per grant the plan adds, changes or removes.
fn grant_audit<'a>(
    user_id: i64,
    plan: &grants::GrantPlan,
    names: &std::collections::HashMap<i64, String>,
    ip: Option<&'a str>,
) -> Vec<AuditEntry<'a>> {
    let events = plan
        .add
        .iter()
        .map(|(c, r)| ("grant.added", *c, json!({ "role": r.as_str() })))
        .chain(plan.change_role.iter().map(|(c, from, to)| ("grant.changed", *c, json!({ "from": from.as_str(), "to": to.as_str() }))))
        .chain(plan.remove.iter().map(|c| ("grant.removed", *c, json!({ "why": "PeeringDB no longer vouches for it" }))));
    events
        .map(|(event, customer_id, mut details)| {
            details["source"] = json!("peeringdb");
            details["customer"] = json!(names.get(&customer_id));
            AuditEntry { actor: "peeringdb".into(), event, user_id: Some(user_id), customer_id: Some(customer_id), details, ip }
        })
        .collect()
}

struct Provisioned {
    user_id: i64,
    added: Vec<String>,
    removed: Vec<String>,
    customers: usize,
    sole_customer: Option<i64>,
}

enum ProvisionError {
    Refused(Refusal, Option<i64>),
    Db(crate::db::DbError),
}

impl From<crate::db::DbError> for ProvisionError {
    fn from(e: crate::db::DbError) -> Self {
        ProvisionError::Db(e)
    }
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

fn flash_text(added: &[String], removed: &[String]) -> Option<String> {
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("Access added: {}.", name_some(added)));
    }
    if !removed.is_empty() {
        parts.push(format!("Removed: {} — PeeringDB no longer lists you there.", name_some(removed)));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(json: &str) -> Profile {
        Profile::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn unverified_users_and_emails_are_refused_before_anything_else() {
        assert_eq!(check_profile(&profile(r#"{"id":1,"verified_user":false,"email":"a@b","verified_email":true}"#)), Err(Refusal::UserNotVerified));
        assert_eq!(check_profile(&profile(r#"{"id":1,"verified_user":true,"email":"a@b","verified_email":false}"#)), Err(Refusal::EmailNotVerified));
        assert_eq!(check_profile(&profile(r#"{"id":1,"verified_user":true,"verified_email":true}"#)), Err(Refusal::NoEmail));
        assert_eq!(check_profile(&profile(r#"{"id":1,"verified_user":true,"email":"a@b","verified_email":true}"#)), Ok("a@b"));
    }

    #[test]
    fn server_timing_names_peeringdb_in_milliseconds() {
        let v = server_timing(std::time::Duration::from_micros(742_500)).unwrap();
        assert_eq!(v.to_str().unwrap(), "peeringdb;dur=742.500;desc=\"token and profile\"");
    }

    #[test]
    fn no_customer_names_the_asns() {
        assert_eq!(Refusal::NoCustomer { asns: vec![64500, 64501] }.location(), "/login?error=pdb_no_customer&asns=64500,64501");
    }

    #[test]
    fn flash_says_what_changed() {
        assert_eq!(
            flash_text(&["Alpha Net".into()], &["Beta Net".into()]).unwrap(),
            "Access added: Alpha Net. Removed: Beta Net — PeeringDB no longer lists you there."
        );
        assert_eq!(flash_text(&[], &[]), None);
        let many: Vec<String> = (0..60).map(|i| format!("N{i}")).collect();
        assert_eq!(flash_text(&many, &[]).unwrap(), "Access added: N0, N1, N2, N3, N4 and 55 more.");
    }
}
