//! "Login with PeeringDB": starting a login, and finishing it when the
//! browser comes back. The decisions are the domain's
//! (`validate_callback`, `verify`, `decide`); here is the IO around them,
//! in the order `docs/design.md` gives, with nothing written before every
//! check has passed and every write of a login in one transaction.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use app::backend::SignIn;
use domain::grants::GrantPlan;
use domain::peeringdb::login::{self as decision, AccountChange, Decision, Verified};
use domain::peeringdb::oidc::{self as oidc_rules, Assurance};
use domain::peeringdb::{validate_callback, CallbackQuery, Exchange, Pending, Profile, Refusal, PENDING_LIFETIME};
use domain::{Actor, AuditEvent, LoginError, LoginMethod, Source};
use secrecy::SecretString;
use serde_json::json;
use url::Url;

use super::{access, random_token, token_hash, Portal};
use crate::keys::refresh_context;
use crate::peeringdb::oidc::Identity;
use crate::peeringdb::{PeeringDbClient, PeeringDbError, TokenHint, Tokens};
use crate::store::audit::{self, AuditEntry};
use crate::store::grants::{self, Planning};
use crate::store::users::{self, UserRow};
use crate::mail::message::{self, AccessChanges};
use crate::store::{links, now, outbox, pending, sessions, DbError};

/// Unfinished PeeringDB logins one address may have at once (each stores a
/// row until its callback or its expiry, 10 minutes).
pub const MAX_PENDING_PER_ADDRESS: i64 = 30;

/// Why a PeeringDB login could not start.
#[derive(Debug)]
pub enum StartError {
    /// This address started [`MAX_PENDING_PER_ADDRESS`] already.
    TooMany { retry_after: Duration },
    Db(DbError),
}

/// A login on its way to PeeringDB: the browser keeps `binding` in a
/// cookie and goes to `authorize_url`.
pub struct Started {
    pub binding: String,
    pub authorize_url: Url,
}

/// How a callback ended, and how long PeeringDB took to answer it.
pub struct Finished {
    pub outcome: Outcome,
    /// The code exchange and the profile, when PeeringDB was asked at all.
    pub waited_for_peeringdb: Option<Duration>,
}

pub enum Outcome {
    /// The person is in: start their session, show `notice`, go to `next`.
    SignedIn { sign_in: SignIn, next: String, notice: Option<String> },
    /// Back to `/login` with the reason in the URL.
    Refused { location: String },
}

impl Outcome {
    fn refused(code: LoginError) -> Outcome {
        Outcome::Refused { location: format!("/login?error={code}") }
    }

    fn location(&self) -> &str {
        match self {
            Outcome::SignedIn { next, .. } => next,
            Outcome::Refused { location } => location,
        }
    }
}

/// A failure inside the portal: logged, and the person told to try again.
fn internal(e: impl std::fmt::Display) -> Outcome {
    tracing::error!(error = %e, "PeeringDB login failed inside PeerPortal");
    Outcome::refused(LoginError::Internal)
}

/// Storage key of a pending login: a hash, so a database leak gives no
/// usable browser binding.
fn pending_id(binding: &str) -> String {
    token_hash(binding)
}

/// What a successful provisioning did.
struct Provisioned {
    /// The customer an invitation made the person join, and the notice.
    joined: Option<(i64, String)>,
    sign_in: SignIn,
    /// The sealed refresh token this login's replaced, to revoke.
    replaced_refresh: Option<String>,
    added: Vec<String>,
    removed: Vec<String>,
    /// Customers where the MFA policy kept the role at member.
    lowered: Vec<String>,
    /// Customers that require a second factor this login did not use.
    needs_mfa: Vec<String>,
    customers: usize,
}

/// What PeeringDB said about a login: the profile, the tokens, and the
/// ID token's word when ID tokens are checked.
struct Answered {
    profile: Profile,
    tokens: Tokens,
    identity: Option<Identity>,
}

/// How the person authenticated, as recorded and as judged.
struct HowAuthenticated {
    /// `amr` from the ID token (signed) or, without ID tokens, the profile.
    amr: Vec<String>,
    assurance: Assurance,
}

enum ProvisionError {
    Refused(Refusal, Option<i64>),
    Db(DbError),
}

impl From<DbError> for ProvisionError {
    fn from(e: DbError) -> Self {
        ProvisionError::Db(e)
    }
}

impl Portal {
    /// Remembers a pending login server-side (state, PKCE verifier, `next`).
    /// `None` when PeeringDB login is off.
    pub async fn start_peeringdb_login(&self, next: Option<&str>, client_ip: Option<std::net::IpAddr>) -> Option<Result<Started, StartError>> {
        let client = self.peeringdb.as_ref()?;
        let binding = random_token();
        let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
        let pending = Pending {
            state: random_token(),
            pkce_verifier: verifier.secret().to_string(),
            nonce: client.checks_id_tokens().then(random_token),
            next: next.and_then(domain::login::safe_next).map(str::to_owned),
            created_at: now(),
        };
        // Each start stores a row until its callback or its expiry: one
        // address may have only so many unfinished.
        let address = client_ip.map(domain::net::throttle_address);
        let expires = pending.created_at + PENDING_LIFETIME;
        match pending::put(&self.db, &pending_id(&binding), &pending, expires, address.as_deref(), MAX_PENDING_PER_ADDRESS).await {
            Err(e) => Some(Err(StartError::Db(e))),
            Ok(true) => Some(Ok(Started { authorize_url: client.authorize_url(&pending.state, challenge, pending.nonce.as_deref()), binding })),
            Ok(false) => {
                tracing::info!("too many unfinished PeeringDB logins from one address: refused");
                let at = now();
                let first = match pending::first_expiry(&self.db, address.as_deref().unwrap_or_default(), at).await {
                    Ok(first) => first,
                    Err(e) => return Some(Err(StartError::Db(e))),
                };
                let left = first.map_or(PENDING_LIFETIME, |f| f - at).whole_seconds().max(1);
                Some(Err(StartError::TooMany { retry_after: std::time::Duration::from_secs(left.unsigned_abs()) }))
            }
        }
    }

    /// The callback's work, from the browser's binding cookie and the query.
    #[tracing::instrument(skip_all)]
    pub async fn finish_peeringdb_login(&self, binding: Option<&str>, query: CallbackQuery, ip: Option<&str>) -> Finished {
        let finished = self.finish_uncounted(binding, query, ip).await;
        let signed_in = matches!(finished.outcome, Outcome::SignedIn { .. });
        self.metrics.login(LoginMethod::Peeringdb, signed_in);
        if matches!(&finished.outcome, Outcome::Refused { location } if *location == Outcome::refused(LoginError::Internal).location()) {
            // Not audited (it is ours, and the log has its cause), but counted.
            self.metrics.refusal(LoginMethod::Peeringdb, LoginError::Internal.as_str());
        }
        finished
    }

    async fn finish_uncounted(&self, binding: Option<&str>, query: CallbackQuery, ip: Option<&str>) -> Finished {
        let Some(client) = self.peeringdb.as_ref() else {
            return Finished { outcome: Outcome::Refused { location: "/login".into() }, waited_for_peeringdb: None };
        };
        // 1. The pending login, taken out (single use whatever happens
        //    next), checked before PeeringDB is called at all.
        let exchange = match self.take_pending(binding, &query, &client.issuer, ip).await {
            Ok(exchange) => exchange,
            Err(outcome) => return Finished { outcome, waited_for_peeringdb: None },
        };
        // 2. Code → tokens → ID token → profile; no token leaves the client.
        let mut waited = Duration::ZERO;
        let answered = ask_peeringdb(client, exchange.code, exchange.pkce_verifier, exchange.nonce.as_deref(), &mut waited).await;
        let waited_for_peeringdb = Some(waited);
        // Logins never wait for the shared request budget, but count in
        // it (token, profile and the access token's revocation): counted
        // here, written by `flush_login_requests` every few seconds.
        self.login_requests.fetch_add(3, std::sync::atomic::Ordering::Relaxed);
        let outcome = match answered {
            Ok(Answered { profile, tokens, identity }) => {
                // The access token has done its work: revoke it now rather
                // than leave it alive at PeeringDB for ten hours.
                self.revoke_later(tokens.access, TokenHint::AccessToken);
                // The ID token's `amr` is signed; the profile's is the
                // word of a TLS connection, used when ID tokens are off.
                let amr = identity.map_or_else(|| profile.amr.clone().unwrap_or_default(), |i| i.amr);
                let assurance = Assurance { policy: self.config.mfa_policy, second_factor: oidc_rules::second_factor(&amr) };
                self.admit(&profile, tokens.refresh, exchange.next, ip, HowAuthenticated { amr, assurance }).await
            }
            Err((e, tokens)) => {
                // PeeringDB issued tokens for a login we refuse: they go.
                if let Some(tokens) = tokens {
                    self.revoke_later(tokens.access, TokenHint::AccessToken);
                    if let Some(refresh) = tokens.refresh {
                        self.revoke_later(refresh, TokenHint::RefreshToken);
                    }
                }
                self.refused_by_peeringdb(e, ip).await
            }
        };
        Finished { outcome, waited_for_peeringdb }
    }

    async fn take_pending(&self, binding: Option<&str>, query: &CallbackQuery, issuer: &str, ip: Option<&str>) -> Result<Exchange, Outcome> {
        let Some(binding) = binding else {
            // Anyone can send this request: it is counted in the log, not
            // written into the audit log.
            tracing::info!("PeeringDB callback without the binding cookie: refused");
            self.metrics.refusal(LoginMethod::Peeringdb, "no_binding");
            return Err(Outcome::refused(LoginError::PdbState));
        };
        let pending = pending::take(&self.db, &pending_id(binding)).await.map_err(internal)?;
        match validate_callback(pending, query, issuer, now()) {
            Ok(exchange) => Ok(exchange),
            Err(e) => {
                tracing::info!(reason = %e, "PeeringDB callback refused before calling PeeringDB");
                self.audit_refusal(ip, None, e.code().as_str(), json!({ "detail": e.to_string() })).await;
                Err(Outcome::refused(e.code()))
            }
        }
    }

    async fn refused_by_peeringdb(&self, e: PeeringDbError, ip: Option<&str>) -> Outcome {
        tracing::warn!(error = %e, reason = e.reason(), "PeeringDB login failed at PeeringDB");
        let mut extra = json!({ "detail": e.to_string() });
        let mut location = format!("/login?error={}", e.code());
        if let PeeringDbError::RateLimited { retry_after: Some(s) } = &e {
            extra["retry_after"] = json!(s);
            location.push_str(&format!("&retry={s}"));
        }
        self.audit_refusal(ip, None, e.reason(), extra).await;
        Outcome::Refused { location }
    }

    /// 3. Checks on the profile alone, then 4. everything else in one transaction.
    async fn admit(&self, profile: &Profile, refresh: Option<SecretString>, next: Option<String>, ip: Option<&str>, how: HowAuthenticated) -> Outcome {
        let verified = match decision::verify(profile) {
            Ok(v) => v,
            Err(r) => {
                if let Some(token) = refresh {
                    self.revoke_later(token, TokenHint::RefreshToken);
                }
                let user_id = match r {
                    Refusal::UserNotVerified => match self.withdraw_unverified(profile.id, ip).await {
                        Ok(user_id) => user_id,
                        Err(e) => return internal(e),
                    },
                    _ => None,
                };
                self.audit_refusal(ip, user_id, r.reason(), json!({ "peeringdb_id": profile.id })).await;
                return Outcome::Refused { location: r.location() };
            }
        };
        // Refused, nothing keeps the refresh token: PeeringDB is told so.
        let unused = refresh.clone();
        // A login started from an invitation's page accepts it on the way.
        let invitation = next.as_deref().and_then(|n| n.strip_prefix("/invitation/")).map(str::to_owned);
        match self.provision(&verified, refresh.as_ref(), ip, &how, invitation.as_deref()).await {
            Ok(p) => {
                self.revoke_sealed_later(p.sign_in.user_id, p.replaced_refresh);
                tracing::info!(user_id = p.sign_in.user_id, customers = p.customers, mfa = how.assurance.second_factor, "PeeringDB login");
                let notice = decision::changes_notice(&p.added, &p.removed, &p.lowered, &p.needs_mfa);
                match p.joined {
                    Some((customer_id, joined)) => Outcome::SignedIn {
                        sign_in: SignIn { sole_customer: Some(customer_id), ..p.sign_in },
                        next: "/".to_string(),
                        notice: Some(notice.map_or(joined.clone(), |n| format!("{joined} {n}"))),
                    },
                    None => Outcome::SignedIn { sign_in: p.sign_in, next: decision::landing(next, p.customers), notice },
                }
            }
            Err(ProvisionError::Refused(r, user_id)) => {
                if let Some(token) = unused {
                    self.revoke_later(token, TokenHint::RefreshToken);
                }
                let extra = json!({ "peeringdb_id": profile.id, "asns": profile.asns(), "amr": how.amr });
                self.audit_refusal(ip, user_id, r.reason(), extra).await;
                Outcome::Refused { location: r.location() }
            }
            Err(ProvisionError::Db(e)) => {
                if let Some(token) = unused {
                    self.revoke_later(token, TokenHint::RefreshToken);
                }
                internal(e)
            }
        }
    }

    /// Revokes a token at PeeringDB in the background: the person's
    /// request does not wait for it, and a failure is only logged (the
    /// token itself never is).
    pub(crate) fn revoke_later(&self, token: SecretString, hint: TokenHint) {
        let Some(client) = self.peeringdb.clone() else { return };
        self.in_background(async move {
            if let Err(e) = client.revoke(&token, hint).await {
                tracing::warn!(error = %e, hint = hint.as_str(), "could not revoke a PeeringDB token");
            }
        });
    }

    /// [`Portal::revoke_later`] for a refresh token as stored (sealed), if any.
    pub(crate) fn revoke_sealed_later(&self, user_id: i64, sealed: Option<String>) {
        let Some(sealed) = sealed else { return };
        match self.keys.open(&sealed, &refresh_context(user_id)) {
            Ok(token) => self.revoke_later(token, TokenHint::RefreshToken),
            Err(e) => tracing::warn!(user_id, error = %e, "a stored refresh token could not be opened to revoke it"),
        }
    }

    /// PeeringDB no longer verifies a person we know: what it vouched for
    /// goes, and so do their sessions (manual grants stay). Returns the
    /// account, if there is one.
    async fn withdraw_unverified(&self, peeringdb_id: i64, ip: Option<&str>) -> Result<Option<i64>, DbError> {
        let mut tx = self.db.begin().await?;
        tx.lock_key(peeringdb_id).await?;
        let Some(user) = users::by_peeringdb_id(&mut tx, peeringdb_id).await? else {
            return Ok(None);
        };
        let (removed, ended) = access::unverified(&mut tx, user.id, ip).await?;
        audit::write_all(&mut tx, &removed.rows).await?;
        tx.commit().await?;
        tracing::info!(user_id = user.id, grants_removed = removed.rows.len(), sessions_ended = ended, "PeeringDB no longer verifies a linked user");
        Ok(Some(user.id))
    }

    /// A refused login's one audit row (its own transaction: nothing else
    /// of a refused login is written).
    async fn audit_refusal(&self, ip: Option<&str>, user_id: Option<i64>, reason: &str, extra: serde_json::Value) {
        self.metrics.refusal(LoginMethod::Peeringdb, reason);
        let mut details = json!({ "via": LoginMethod::Peeringdb, "reason": reason });
        if let (Some(d), serde_json::Value::Object(extra)) = (details.as_object_mut(), extra) {
            d.extend(extra);
        }
        let entry = AuditEntry { actor: Actor::Peeringdb, event: AuditEvent::LoginRefused, user_id, customer_id: None, details, ip };
        if let Err(e) = audit::write_alone(&self.db, &entry).await {
            tracing::error!(error = %e, "could not audit a refused PeeringDB login");
        }
    }

    /// Reads the facts, asks [`decision::decide`], and writes its answer
    /// in one transaction. A refusal commits nothing, except
    /// de-provisioning an existing user who lost every customer.
    async fn provision(
        &self,
        verified: &Verified<'_>,
        refresh: Option<&SecretString>,
        ip: Option<&str>,
        how: &HowAuthenticated,
        invitation: Option<&str>,
    ) -> Result<Provisioned, ProvisionError> {
        let profile = verified.profile;
        let mut tx = self.db.begin().await?;
        // Two logins of one person at once (two tabs, two replicas) would
        // both find no account and both create one: take turns.
        tx.lock_key(profile.id).await?;
        let mut user = users::by_peeringdb_id(&mut tx, profile.id).await?;
        if user.is_none() && self.config.link_by_email {
            let same_email = users::unlinked_by_email(&mut tx, &verified.email).await?;
            let accounts: Vec<_> = same_email.iter().map(UserRow::account).collect();
            user = decision::link_candidate(&accounts).and_then(|a| same_email.into_iter().find(|u| u.id == a.id));
        }
        let account = user.as_ref().map(UserRow::account);
        let mut planning = grants::planning(&mut tx, &profile.asns(), account.map(|a| a.id)).await?;
        // An invitation to PeeringDB's verified address counts as the
        // manual grant it is about to become: the decision then admits a
        // person none of whose networks is a customer.
        let invited = match invitation {
            Some(token) => self.invitation_for(token, &verified.email).await?,
            None => None,
        };
        if let Some((customer_id, role, _)) = &invited {
            if !planning.existing.iter().any(|e| e.customer_id == *customer_id) {
                planning.existing.push(domain::grants::Existing { customer_id: *customer_id, role: *role, source: Source::Manual });
            }
        }

        match decision::decide(verified, account, &planning.customers, &planning.existing, self.config.role_policy, how.assurance) {
            Decision::Refuse { refusal, deprovision: None } => Err(ProvisionError::Refused(refusal, account.map(|a| a.id))),
            Decision::Refuse { refusal, deprovision: Some((user_id, plan)) } => {
                grants::apply_plan(&mut tx, user_id, &plan).await?;
                audit::write_all(&mut tx, &grant_audit(user_id, &plan, &planning, ip)).await?;
                if let (Some(site), Some(u)) = (self.mail_site(), &user) {
                    let changes = access_changes(&plan, &planning, &[]);
                    if let Some(mail) = message::access_changed(&site, user_id, &u.email, &u.name, &changes, false) {
                        outbox::enqueue(&mut tx, &mail).await?;
                    }
                }
                let ended = sessions::end_all_of(&mut tx, user_id).await?;
                tracing::info!(user_id, sessions_ended = ended, "user lost every PeeringDB customer");
                tx.commit().await?;
                Err(ProvisionError::Refused(refusal, Some(user_id)))
            }
            Decision::SignIn { account, plan, withheld } => {
                let name = profile.display_name();
                // The audit rows of this login, written together at the end.
                let mut rows = Vec::new();
                // The username of an account this login makes.
                let mut created = None;
                let user_id = match account {
                    AccountChange::Update { user_id } => {
                        users::refresh_from_peeringdb(&mut tx, user_id, &name, &verified.email, profile.id).await?;
                        user_id
                    }
                    AccountChange::Create { username_base } => {
                        let taken = users::usernames_starting_with(&mut tx, &username_base).await?;
                        let username = domain::user::free_username(&username_base, &taken);
                        let new = users::NewUser {
                            username: &username,
                            name: &name,
                            email: &verified.email,
                            password_hash: None,
                            is_superadmin: false,
                            peeringdb_id: Some(profile.id),
                            created_via: domain::CreatedVia::Peeringdb,
                        };
                        let id = users::insert(&mut tx, &new).await?;
                        users::record_login(&mut tx, id, LoginMethod::Peeringdb).await?;
                        rows.push(AuditEntry {
                            actor: Actor::Peeringdb,
                            event: AuditEvent::UserCreated,
                            user_id: Some(id),
                            customer_id: None,
                            details: json!({ "username": username, "peeringdb_id": profile.id }),
                            ip,
                        });
                        created = Some(username);
                        id
                    }
                };
                grants::apply_plan(&mut tx, user_id, &plan).await?;
                rows.extend(grant_audit(user_id, &plan, &planning, ip));
                let joined = match (invitation, &invited) {
                    (Some(token), Some((customer_id, role, customer))) => match self.accept_in(&mut tx, token, user_id, &verified.email, ip).await? {
                        Ok(_) => Some((*customer_id, format!("You joined {customer} as {role}."))),
                        // Taken meanwhile: the login stands on its own.
                        Err(why) => {
                            tracing::info!(user_id, why = %why, "the invitation of this PeeringDB login could not be accepted");
                            None
                        }
                    },
                    _ => None,
                };
                let replaced_refresh = match refresh {
                    Some(token) => {
                        let sealed = self.keys.seal(token, &refresh_context(user_id)).map_err(|e| ProvisionError::Db(DbError::Corrupt(e.to_string())))?;
                        links::replace_refresh(&mut tx, user_id, &sealed, true, how.assurance.second_factor).await?
                    }
                    None => None,
                };
                rows.push(AuditEntry {
                    actor: Actor::User(user_id),
                    event: AuditEvent::LoginSuccess,
                    user_id: Some(user_id),
                    customer_id: None,
                    details: json!({
                        "via": LoginMethod::Peeringdb,
                        "peeringdb_id": profile.id,
                        "mfa": how.assurance.second_factor,
                        "amr": how.amr,
                        "id_token": self.peeringdb.as_ref().is_some_and(|c| c.checks_id_tokens()),
                    }),
                    ip,
                });
                audit::write_all(&mut tx, &rows).await?;
                if let Some(site) = self.mail_site() {
                    let mut changes = access_changes(&plan, &planning, &withheld.lowered);
                    // The customer an invitation made them join is access this login added too.
                    if let (Some(_), Some((_, role, customer))) = (&joined, &invited) {
                        changes.added.push((customer.clone(), *role));
                    }
                    let mail = match &created {
                        Some(username) => Some(message::welcome(&site, user_id, &verified.email, &name, username, &changes)),
                        None => message::access_changed(&site, user_id, &verified.email, &name, &changes, false),
                    };
                    if let Some(mail) = mail {
                        outbox::enqueue(&mut tx, &mail).await?;
                    }
                }
                tx.commit().await?;
                Ok(Provisioned {
                    replaced_refresh,
                    sign_in: SignIn { user_id, sole_customer: plan.sole_customer_after() },
                    added: plan.add.iter().map(|(id, _)| planning.name(*id)).collect(),
                    removed: plan.remove.iter().map(|id| planning.name(*id)).collect(),
                    lowered: withheld.lowered.iter().map(|id| planning.name(*id)).collect(),
                    needs_mfa: withheld.needs_mfa.iter().map(|id| planning.name(*id)).collect(),
                    customers: plan.customers_after(),
                    joined,
                })
            }
        }
    }
}

/// The code's exchange, the ID token's check and the profile, in that
/// order: a token that does not check out costs no profile request. On a
/// failure after the exchange the tokens come back to be revoked.
/// `waited` gets the time of the two round trips (not the token's check,
/// which is the portal's own work).
async fn ask_peeringdb(
    client: &PeeringDbClient,
    code: String,
    verifier: String,
    nonce: Option<&str>,
    waited: &mut Duration,
) -> Result<Answered, (PeeringDbError, Option<Tokens>)> {
    let asked = Instant::now();
    let tokens = client.exchange(code, verifier).await;
    *waited += asked.elapsed();
    let tokens = tokens.map_err(|e| (e, None))?;
    let identity = match client.identify(&tokens, nonce).await {
        Ok(identity) => identity,
        Err(e) => return Err((e, Some(tokens))),
    };
    let asked = Instant::now();
    let profile = client.profile(&tokens.access).await;
    *waited += asked.elapsed();
    let profile = match profile {
        Ok(profile) => profile,
        Err(e) => return Err((e, Some(tokens))),
    };
    if let Some(identity) = &identity {
        if let Err(r) = oidc_rules::check_subject(&identity.sub, profile.id) {
            return Err((PeeringDbError::IdToken(r), Some(tokens)));
        }
    }
    Ok(Answered { profile, tokens, identity })
}

/// What a plan does to a person's access, by customer name, for a mail.
pub(crate) fn access_changes(plan: &GrantPlan, planning: &Planning, lowered: &[i64]) -> AccessChanges {
    AccessChanges {
        added: plan.add.iter().map(|(c, r)| (planning.name(*c), *r)).collect(),
        changed: plan.change_role.iter().map(|(c, from, to)| (planning.name(*c), *from, *to)).collect(),
        removed: plan.remove.iter().map(|c| planning.name(*c)).collect(),
        lowered: lowered.iter().map(|c| planning.name(*c)).collect(),
    }
}

/// One audit row per grant the plan adds, changes or removes.
pub(crate) fn grant_audit<'a>(user_id: i64, plan: &GrantPlan, planning: &Planning, ip: Option<&'a str>) -> Vec<AuditEntry<'a>> {
    let names: &HashMap<i64, String> = &planning.names;
    let events = plan
        .add
        .iter()
        .map(|(c, r)| (AuditEvent::GrantAdded, *c, json!({ "role": r.as_str() })))
        .chain(plan.change_role.iter().map(|(c, from, to)| (AuditEvent::GrantChanged, *c, json!({ "from": from.as_str(), "to": to.as_str() }))))
        .chain(plan.remove.iter().map(|c| (AuditEvent::GrantRemoved, *c, json!({ "why": "PeeringDB no longer vouches for it" }))));
    events
        .map(|(event, customer_id, mut details)| {
            details["source"] = json!(Source::Peeringdb.as_str());
            details["customer"] = json!(names.get(&customer_id));
            AuditEntry { actor: Actor::Peeringdb, event, user_id: Some(user_id), customer_id: Some(customer_id), details, ip }
        })
        .collect()
}
