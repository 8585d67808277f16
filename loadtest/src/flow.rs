//! One complete "Login with PeeringDB" as a browser makes it, against the
//! simulator, with the simulator's own time kept apart.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use peeringdb_sim::Simulator;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

/// Time spent inside the simulator's handlers (token and profile calls),
/// so the portal's own time per callback is the callback minus this.
#[derive(Clone, Default)]
pub struct SimClock(Arc<AtomicU64>);

impl SimClock {
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

async fn timed(State(clock): State<SimClock>, req: Request, next: Next) -> Response {
    let t = Instant::now();
    let resp = next.run(req).await;
    clock.0.fetch_add(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    resp
}

pub struct PeeringDb {
    pub sim: Simulator,
    pub base: String,
    pub clock: SimClock,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for PeeringDb {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts the simulator on loopback, knowing `redirect_uri`, with `users`
/// people who each belong to `networks` of the customers' networks.
pub async fn peeringdb(redirect_uri: &str, users: usize, networks: usize, customers: usize) -> anyhow::Result<PeeringDb> {
    let sim = Simulator::new(peeringdb_sim::Client {
        client_id: crate::portal::CLIENT_ID.into(),
        client_secret: crate::portal::CLIENT_SECRET.into(),
        redirect_uris: vec![redirect_uri.to_string()],
    });
    for u in 0..users {
        sim.set_profile(&user_name(u), profile(u, networks, customers));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let clock = SimClock::default();
    let router = sim.router().layer(axum::middleware::from_fn_with_state(clock.clone(), timed));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(PeeringDb { sim, base, clock, server })
}

pub fn user_name(u: usize) -> String {
    format!("load{u:04}")
}

/// The ASN of customer `c` (private-use 32-bit range: imported with
/// `--allow-reserved`).
pub fn customer_asn(c: usize) -> u64 {
    4_200_000_000 + c as u64
}

/// The customer list: `customers` rows, every tenth with a second ASN.
pub fn customers_csv(customers: usize) -> String {
    let mut csv = String::from("name,shortname,asns,type,status,peeringdb_login\n");
    for c in 0..customers {
        let asns = if c % 10 == 0 {
            format!("\"{} {}\"", customer_asn(c), customer_asn(customers + c))
        } else {
            customer_asn(c).to_string()
        };
        csv.push_str(&format!("Load Customer {c:05},lc{c:05},{asns},full,active,true\n"));
    }
    csv
}

/// Person `u` is in `networks` networks spread over the customer list,
/// admin of every other one.
pub fn profile(u: usize, networks: usize, customers: usize) -> serde_json::Value {
    let nets: Vec<serde_json::Value> = (0..networks)
        .map(|j| {
            let c = (u * 37 + j * 163) % customers;
            let perms = if j % 2 == 0 { 15 } else { 1 };
            json!({ "id": 100_000 + c, "name": format!("Load Customer {c:05}"), "asn": customer_asn(c), "perms": perms })
        })
        .collect();
    json!({
        "id": 500_000 + u,
        "given_name": "Load",
        "family_name": format!("User {u}"),
        "name": format!("Load User {u}"),
        "verified_user": true,
        "email": format!("{}@load.example", user_name(u)),
        "verified_email": true,
        "networks": nets,
    })
}

/// How long one login took, as the browser saw it.
pub struct Timing {
    /// `GET /auth/peeringdb/callback` alone.
    pub callback: Duration,
    /// The portal's wait for PeeringDB's two round trips during the
    /// callback, from its `Server-Timing` header.
    pub at_peeringdb: Option<Duration>,
    /// The start redirect plus the callback (the consent page is the
    /// person's time at PeeringDB and is not counted).
    pub total: Duration,
    /// Where the callback sent the browser, and the cookies it set (the
    /// new session): what the complete browser flow loads next.
    pub landing: String,
    pub cookies: Vec<String>,
}

/// Where the browser meets PeeringDB: the simulator (approved in
/// process) or the Django stand-in (its login and consent pages).
#[derive(Clone)]
pub enum Upstream {
    Simulator(Arc<PeeringDb>),
    Django(Arc<crate::django::Django>),
}

impl Upstream {
    /// PeeringDB's base URL, as the portal is configured with it.
    pub fn base(&self) -> &str {
        match self {
            Upstream::Simulator(pdb) => &pdb.base,
            Upstream::Django(django) => &django.base,
        }
    }

    /// The process to read PeeringDB's CPU from; the simulator runs in
    /// the driver's own.
    pub fn pid(&self) -> Option<u32> {
        match self {
            Upstream::Simulator(_) => None,
            Upstream::Django(django) => Some(django.pid()),
        }
    }

    /// PeeringDB's part of a login by person `u`: from its authorization
    /// URL to the portal's callback URL with the code.
    async fn consent(&self, authorize: &url::Url, u: usize) -> anyhow::Result<String> {
        match self {
            Upstream::Simulator(pdb) => Ok(approve_at_simulator(pdb, authorize, &user_name(u))?.into()),
            Upstream::Django(django) => django.consent(authorize, u).await,
        }
    }
}

/// One login as a person's browser makes it: the portal's login page, the
/// button, PeeringDB's part, the callback, and the page it lands on, with
/// the session it set; every portal request on `base`. `total` is the wall
/// time of it all.
pub async fn browser_login(http: &reqwest::Client, upstream: &Upstream, base: &str, u: usize) -> anyhow::Result<Timing> {
    let t0 = Instant::now();
    open_login_page(http, base).await?;
    let started = press_the_button(http, base).await?;
    let callback = upstream.consent(&started.authorize, u).await?;
    let mut t = come_back(http, &callback, &started.cookies, &user_name(u)).await?;
    open_landing(http, base, &t).await?;
    t.total = t0.elapsed();
    Ok(t)
}

/// `GET /login`, as a person without a session sees it.
pub async fn open_login_page(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let page = http.get(format!("{base}/login")).send().await?;
    if page.status() != 200 {
        bail!("/login answered {}", page.status());
    }
    let _ = page.bytes().await?;
    Ok(())
}

/// The page the callback sent the browser to, with the session it set.
pub async fn open_landing(http: &reqwest::Client, base: &str, t: &Timing) -> anyhow::Result<()> {
    let landing = http.get(format!("{base}{}", t.landing)).header(COOKIE, t.cookies.join("; ")).send().await?;
    let status = landing.status();
    let body = landing.text().await?;
    if status != 200 || !body.contains("</html>") {
        bail!("the landing page {} answered {status}", t.landing);
    }
    Ok(())
}

/// A fresh address in 10/8 for each login: a storm is many people, each
/// starting one login, not one address starting thousands (which the
/// portal limits).
fn next_address() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0x00ff_ffff;
    format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255)
}

/// A full login of `user`: start on `start` (base URL), approve at the
/// simulator, come back to `finish` (base URL) as the load balancer might.
pub async fn login(http: &reqwest::Client, pdb: &PeeringDb, start: &str, finish: &str, user: &str) -> anyhow::Result<Timing> {
    let t0 = Instant::now();
    let started = press_the_button(http, start).await?;
    let approved = approve_at_simulator(pdb, &started.authorize, user)?;
    let mut callback = url::Url::parse(&format!("{finish}/auth/peeringdb/callback"))?;
    callback.set_query(approved.query());
    let mut t = come_back(http, callback.as_str(), &started.cookies, user).await?;
    t.total = t0.elapsed();
    Ok(t)
}

/// The simulator's consent for `user` to the authorization request
/// `authorize`: the redirect URI it names, with the code and the state.
fn approve_at_simulator(pdb: &PeeringDb, authorize: &url::Url, user: &str) -> anyhow::Result<url::Url> {
    let q: HashMap<String, String> = authorize.query_pairs().into_owned().collect();
    let redirect_uri = q.get("redirect_uri").context("no redirect_uri")?;
    let (challenge, nonce) = (q.get("code_challenge").map(String::as_str), q.get("nonce").map(String::as_str));
    let code = pdb.sim.approve(user, redirect_uri, challenge, q.get("scope").map_or("", String::as_str), nonce);
    let mut callback = url::Url::parse(redirect_uri)?;
    callback.query_pairs_mut().append_pair("code", &code).append_pair("state", q.get("state").context("no state")?);
    Ok(callback)
}

/// What the "Login with PeeringDB" button answered: where PeeringDB's
/// authorization page is, and the cookies that bind the login to this browser.
pub struct Started {
    pub authorize: url::Url,
    pub cookies: Vec<String>,
}

/// The button on /login: a form POST from the portal's own page, through
/// the trusted proxy from the person's address.
pub async fn press_the_button(http: &reqwest::Client, base: &str) -> anyhow::Result<Started> {
    let r = http
        .post(format!("{base}/auth/peeringdb/login"))
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", next_address())
        .form(&[("next", "")])
        .send()
        .await?;
    if r.status() != 302 {
        bail!("/auth/peeringdb/login answered {}", r.status());
    }
    let cookies = set_cookies(r.headers());
    let authorize = url::Url::parse(r.headers().get(LOCATION).context("no Location")?.to_str()?)?;
    let _ = r.bytes().await;
    Ok(Started { authorize, cookies })
}

/// The browser back at the portal with PeeringDB's answer (`callback`, the
/// full URL): the callback alone is timed; `total` is left to the caller.
pub async fn come_back(http: &reqwest::Client, callback: &str, cookies: &[String], user: &str) -> anyhow::Result<Timing> {
    let t1 = Instant::now();
    let r = http.get(callback).header(COOKIE, cookies.join("; ")).send().await?;
    let t2 = Instant::now();
    let at_peeringdb = r.headers().get("server-timing").and_then(|v| v.to_str().ok()).and_then(peeringdb_wait);
    let to = r.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let session = set_cookies(r.headers());
    let status = r.status();
    let _ = r.bytes().await;
    if status != 302 || to.starts_with("/login") {
        bail!("callback for {user} answered {status} to {to:?}");
    }
    Ok(Timing { callback: t2 - t1, at_peeringdb, total: t2 - t1, landing: to, cookies: session })
}

/// The `name=value` of every cookie a response sets.
pub fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned)).collect()
}

/// The `peeringdb` entry's `dur` (milliseconds) of a `Server-Timing` value.
fn peeringdb_wait(server_timing: &str) -> Option<Duration> {
    server_timing.split(',').find_map(|entry| {
        let mut params = entry.split(';').map(str::trim);
        if params.next()? != "peeringdb" {
            return None;
        }
        let ms: f64 = params.find_map(|p| p.strip_prefix("dur="))?.parse().ok()?;
        (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peeringdb_wait_is_read_from_server_timing() {
        assert_eq!(peeringdb_wait(r#"peeringdb;dur=742.500;desc="token and profile""#), Some(Duration::from_micros(742_500)));
        assert_eq!(peeringdb_wait("db;dur=3, peeringdb;dur=1.25"), Some(Duration::from_micros(1250)));
        assert_eq!(peeringdb_wait("db;dur=3"), None);
        assert_eq!(peeringdb_wait("peeringdb;dur=-1"), None);
    }

    #[test]
    fn every_profile_network_is_a_customer_of_the_list() {
        let customers = 10_000;
        let csv = customers_csv(customers);
        for u in [0, 7, 199] {
            let p = profile(u, 60, customers);
            let nets = p["networks"].as_array().unwrap();
            assert_eq!(nets.len(), 60);
            for n in nets {
                let asn = n["asn"].as_u64().unwrap();
                assert!(csv.contains(&asn.to_string()), "AS{asn} is nobody's");
            }
            let distinct: std::collections::BTreeSet<u64> = nets.iter().map(|n| n["asn"].as_u64().unwrap()).collect();
            assert_eq!(distinct.len(), 60, "60 different networks");
        }
        assert_eq!(csv.lines().count(), customers + 1);
    }
}
