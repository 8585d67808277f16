//! `peerportal-load`: the HTTP half of `make bench` (budgets in docs/design.md).
//!
//! Starts real `peerportal` processes (the release binary) on a throwaway
//! SQLite or PostgreSQL database with 10 000 customers, the PeeringDB
//! simulator in this process, and measures complete PeeringDB logins (one
//! and two replicas), the portal's own time per callback, its CPU per login
//! and its memory; then server-rendered `/login` and the bytes a first visit
//! to `/login` downloads. Loopback only; every phase is bounded in time and
//! in requests. Prints Markdown for BENCHMARKS.md.

mod django;
mod flow;
mod portal;
mod stats;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING};

use flow::{login, PeeringDb, Upstream};
use portal::{free_port, Database, Launcher, Replica};
use stats::{ms, Latencies};

#[derive(Parser, Debug, Clone)]
#[command(about = "Load driver for BENCHMARKS.md (loopback only, bounded)")]
struct Args {
    /// The portal binary to measure (`cargo leptos build --release`).
    #[arg(long, default_value = "target/release/peerportal")]
    portal: PathBuf,
    /// A PostgreSQL server to measure on as well; a database is created
    /// for each scenario and dropped after it.
    #[arg(long, env = "PEERPORTAL_TEST_POSTGRES")]
    postgres: Option<String>,
    #[arg(long, default_value_t = 10_000)]
    customers: usize,
    /// Networks of each person on PeeringDB (each one a customer).
    #[arg(long, default_value_t = 60)]
    networks: usize,
    /// Distinct people logging in.
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// Logins one at a time, for the portal's own time per callback.
    #[arg(long, default_value_t = 400)]
    sequential: usize,
    /// Logins in flight at once during a storm.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Length of each storm.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Replica counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    replicas: Vec<usize>,
    /// Only the login scenarios, or only the page (for profiling one).
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Upper bound on requests of any one storm.
    #[arg(long, default_value_t = 50_000)]
    max_requests: usize,
    /// Linked people re-synced by one `peerportal sync` (SQLite); 0 skips it.
    #[arg(long, default_value_t = 10_000)]
    resync_users: usize,
    /// Networks of each of those people.
    #[arg(long, default_value_t = 5)]
    resync_networks: usize,
    /// The Python of a virtualenv with `loadtest/django/requirements.txt`:
    /// the complete browser flow is also measured against that Django +
    /// django-oauth-toolkit stand-in, beside the simulator.
    #[arg(long, env = "PEERPORTAL_LOAD_DJANGO")]
    django: Option<PathBuf>,
    /// People of that comparison (each logs in once before it is timed).
    #[arg(long, default_value_t = 50)]
    compare_people: usize,
    /// Length of each of its timed phases.
    #[arg(long, default_value_t = 20)]
    compare_seconds: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Only {
    Logins,
    Page,
    Resync,
    Burst,
    Compare,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.portal.exists() {
        bail!("{} does not exist: run `cargo leptos build --release` first", args.portal.display());
    }
    let mut backends = vec![false];
    if args.postgres.is_some() {
        backends.push(true);
    } else {
        eprintln!("no --postgres (PEERPORTAL_TEST_POSTGRES): SQLite only");
    }

    let mut logins = Vec::new();
    let mut page = None;
    for postgres in backends.into_iter().filter(|_| matches!(args.only, None | Some(Only::Logins | Only::Page))) {
        for &replicas in &args.replicas {
            let db = match (&args.postgres, postgres) {
                (Some(admin), true) => Database::postgres(admin, &format!("peerportal_load_{replicas}"))?,
                _ => Database::sqlite()?,
            };
            eprintln!("== {} · {replicas} replica(s)", db.label());
            let s = Scenario::start(&args, db, replicas).await?;
            if args.only != Some(Only::Page) {
                logins.push(s.logins(&args).await.with_context(|| s.label())?);
            }
            if !postgres && replicas == 1 && args.only != Some(Only::Logins) {
                page = Some(s.login_page(&args).await?);
            }
        }
    }
    let sweep = if args.resync_users > 0 && matches!(args.only, None | Some(Only::Resync)) {
        eprintln!("== SQLite · a re-sync of {} linked people", args.resync_users);
        Some(resync(&args).await?)
    } else {
        None
    };
    if !logins.is_empty() || page.is_some() {
        print_report(&args, &logins, page.as_ref());
    }
    if let Some(s) = sweep {
        print_sweep(&args, &s);
    }
    if matches!(args.only, None | Some(Only::Compare)) {
        match &args.django {
            Some(python) => print_comparison(&args, &compare(&args, python).await?),
            None => eprintln!("no --django (PEERPORTAL_LOAD_DJANGO): no run against django-oauth-toolkit"),
        }
    }
    if matches!(args.only, None | Some(Only::Burst)) {
        eprintln!("== SQLite · {BURST} wrong passwords at once from one address");
        print_burst(&burst(&args).await?);
    }
    Ok(())
}

/// The complete browser flow at one number of clients at once.
struct Phase {
    what: &'static str,
    clients: usize,
    per_second: f64,
    total: Latencies,
    callback: Latencies,
    /// PeeringDB's token and profile calls during the callback, as the
    /// portal timed them (`Server-Timing`).
    at_peeringdb: Latencies,
    own: Latencies,
    portal_cpu: Duration,
    /// The Django process's CPU; the simulator runs inside the driver.
    upstream_cpu: Option<Duration>,
}

/// Complete browser logins against the simulator and against the Django
/// stand-in, one after the other on the same machine, each with its own
/// portal (SQLite, one replica, the customer list of the other scenarios):
/// everyone's first login, then one client, then four.
async fn compare(args: &Args, python: &Path) -> anyhow::Result<Vec<(&'static str, Vec<Phase>)>> {
    let people = args.compare_people;
    let mut results = Vec::new();
    let upstreams = [(None, "simulator"), (Some(false), "Django (runserver as shipped)"), (Some(true), "Django (runserver with TCP_NODELAY)")];
    for (django, label) in upstreams {
        let port = free_port()?;
        let public = format!("http://127.0.0.1:{port}");
        let redirect = format!("{public}/auth/peeringdb/callback");
        eprintln!("== SQLite · complete logins against the {label}");
        let upstream = match django {
            Some(nodelay) => Upstream::Django(Arc::new(django::Django::start(python, nodelay, &redirect, people, args.networks, args.customers).await?)),
            None => Upstream::Simulator(Arc::new(flow::peeringdb(&redirect, people, args.networks, args.customers).await?)),
        };
        let upstream_pid = upstream.pid();
        let db = Database::sqlite()?;
        let keys = tempfile::tempdir()?;
        let (launcher, _) = launcher_with_customers(args, &db, keys.path(), public.clone(), upstream.base().to_string())?;
        let replica = launcher.start(port).await?;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).tcp_nodelay(true).build()?;
        let mut phases = Vec::new();
        let plan = [("first login of each person", 1, people, 600), ("repeat logins", 1, 100_000, args.compare_seconds), ("repeat logins", 4, 100_000, args.compare_seconds)];
        for (what, clients, max, seconds) in plan {
            let upstream_cpu = |pid: Option<u32>| pid.and_then(portal::cpu_and_rss).map(|(cpu, _)| cpu);
            let (portal_before, upstream_before) = (replica.cpu(), upstream_cpu(upstream_pid));
            let (http, upstream, base) = (http.clone(), upstream.clone(), public.clone());
            let ran = storm(Bounds { clients, seconds, max }, move |i| {
                let (http, upstream, base) = (http.clone(), upstream.clone(), base.clone());
                async move { flow::browser_login(&http, &upstream, &base, i % people).await }
            })
            .await
            .with_context(|| format!("{label}: {what}, {clients} at once"))?;
            let n = u32::try_from(ran.done.len().max(1)).unwrap_or(u32::MAX);
            let portal_cpu = replica.cpu().saturating_sub(portal_before) / n;
            let upstream_cpu = upstream_cpu(upstream_pid).zip(upstream_before).map(|(after, before)| after.saturating_sub(before) / n);
            let per_second = ran.per_second();
            let at: Vec<Duration> = ran.done.iter().map(|t| t.at_peeringdb.context("the callback sent no Server-Timing")).collect::<Result<_, _>>()?;
            phases.push(Phase {
                what,
                clients,
                per_second,
                total: Latencies::new(ran.done.iter().map(|t| t.total).collect()),
                callback: Latencies::new(ran.done.iter().map(|t| t.callback).collect()),
                own: Latencies::new(ran.done.iter().zip(&at).map(|(t, at)| t.callback.saturating_sub(*at)).collect()),
                at_peeringdb: Latencies::new(at),
                portal_cpu,
                upstream_cpu,
            });
        }
        results.push((label, phases));
    }
    Ok(results)
}

fn print_comparison(args: &Args, results: &[(&'static str, Vec<Phase>)]) {
    println!("\n### Complete logins against django-oauth-toolkit\n");
    println!(
        "The complete browser flow of the storms above, against two PeeringDBs in turn, each with a fresh portal \
         (SQLite, one replica, {} customers; {} people in {} networks each): the simulator, and a stand-in built on \
         Django {} and django-oauth-toolkit {} (the library PeeringDB's OAuth server runs on, `loadtest/django/`), \
         served by Django's own `runserver`. Against the stand-in the browser also signs in at PeeringDB and allows \
         on its consent page (real forms with CSRF tokens, a fresh PeeringDB session each time). Milliseconds, \
         p50 / p99 / max; CPU from /proc per complete login:\n",
        args.customers,
        args.compare_people,
        args.networks,
        django::pinned("Django"),
        django::pinned("django-oauth-toolkit")
    );
    println!(
        "| PeeringDB | logins | at once | logins/s | complete login | callback | of which PeeringDB's token + profile calls | \
         the portal's own time per callback | portal CPU per login | PeeringDB's CPU per login |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (label, phases) in results {
        for p in phases {
            println!(
                "| {label} | {} ({}) | {} | {:.1} | {} | {} | {} | {} | {} | {} |",
                p.what,
                p.total.len(),
                p.clients,
                p.per_second,
                p.total.cell(),
                p.callback.cell(),
                p.at_peeringdb.cell(),
                p.own.cell(),
                ms(p.portal_cpu),
                p.upstream_cpu.map_or_else(|| "in the driver".to_string(), ms)
            );
        }
    }
}

/// Wrong-password logins sent at once by one client.
const BURST: usize = 500;

struct BurstFigures {
    /// Answers to the burst by status code.
    statuses: std::collections::BTreeMap<u16, usize>,
    /// The right password from another address, sent while the burst runs.
    operator: (u16, Duration),
    idle_rss_kib: u64,
    peak_rss_kib: u64,
    wall: Duration,
}

/// 500 wrong-password POSTs at once from one address (behind the trusted
/// proxy, as through nginx), and meanwhile the operator's right password
/// from another address.
async fn burst(args: &Args) -> anyhow::Result<BurstFigures> {
    let small = Args { customers: 100, users: 1, networks: 1, ..args.clone() };
    let s = Scenario::start(&small, Database::sqlite()?, 1).await?;
    s.launcher.create_admin("operator", "the operator's password")?;
    let base = s.replicas[0].base.clone();
    let client = reqwest::Client::builder().pool_max_idle_per_host(BURST).build()?;
    let post = move |client: reqwest::Client, from: &'static str, username: String, password: &'static str| {
        let base = base.clone();
        async move {
            let form = [("username", username.as_str()), ("password", password)];
            let req = client.post(format!("{base}/api/login")).header("origin", &base).header("accept", "application/json");
            let started = Instant::now();
            let status = req.header("x-forwarded-for", from).form(&form).send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            (status, started.elapsed())
        }
    };
    let started = Instant::now();
    let mut attack = tokio::task::JoinSet::new();
    for i in 0..BURST {
        attack.spawn(post(client.clone(), "198.51.100.7", format!("guess{i}"), "wrong password"));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let operator = post(client.clone(), "192.0.2.1", "operator".into(), "the operator's password").await;
    let mut statuses = std::collections::BTreeMap::new();
    while let Some(done) = attack.join_next().await {
        *statuses.entry(done?.0).or_insert(0) += 1;
    }
    let wall = started.elapsed();
    Ok(BurstFigures { statuses, operator, idle_rss_kib: s.idle_rss_kib[0], peak_rss_kib: s.replicas[0].peak_rss_kib(), wall })
}

fn print_burst(b: &BurstFigures) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let answers: Vec<String> = b.statuses.iter().map(|(status, n)| format!("{n} × {status}")).collect();
    println!("\n### A burst of wrong passwords (budget: peak RSS under 100 MiB, answers 401 or 429 only, the operator gets in)\n");
    println!(
        "{BURST} wrong-password logins sent at once from one address (through the trusted proxy, each for another username), \
         SQLite; 20 ms in, the operator's right password from another address.\n"
    );
    println!("| answers to the burst | all answered within (s) | the operator's login | its latency (ms) | portal RSS idle / peak (MiB) |");
    println!("|---|---|---|---|---|");
    println!(
        "| {} | {:.2} | {} | {} | {:.1} / {:.1} |",
        answers.join(", "),
        b.wall.as_secs_f64(),
        b.operator.0,
        ms(b.operator.1),
        mib(b.idle_rss_kib),
        mib(b.peak_rss_kib)
    );
}

/// One `peerportal sync` of everyone, as watched from outside.
struct SweepFigures {
    users: usize,
    wall: Duration,
    cpu: Duration,
    /// RSS samples (KiB) through the sweep, every 20 ms.
    rss_kib: Vec<u64>,
    /// Time inside the simulator's handlers during the sweep.
    in_peeringdb: Duration,
    summary: String,
}

/// Logs `resync_users` people in once (so each has a sealed refresh token),
/// then times a `peerportal sync` of all of them with the budget lifted.
async fn resync(args: &Args) -> anyhow::Result<SweepFigures> {
    let people = Args { users: args.resync_users, networks: args.resync_networks, ..args.clone() };
    let s = Scenario::start(&people, Database::sqlite()?, 1).await?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (net, next, users) = (s.net.clone(), next.clone(), people.users);
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= users {
                    return Ok::<(), anyhow::Error>(());
                }
                net.login(i).await?;
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done??;
    }
    let in_sim_before = s.net.pdb.clock.total();
    let started = std::time::Instant::now();
    let mut child = s.launcher.spawn_sync()?;
    let pid = child.id();
    let (mut cpu, mut rss_kib) = (Duration::ZERO, Vec::new());
    // Bounded: a sweep of 10 000 people takes well under a minute here.
    for _ in 0..30_000 {
        if let Some((c, rss)) = portal::cpu_and_rss(pid).filter(|(_, rss)| *rss > 0) {
            cpu = c;
            rss_kib.push(rss);
        }
        if child.try_wait()?.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = started.elapsed();
    let out = child.wait_with_output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        bail!("peerportal sync failed: {stdout}");
    }
    let summary = stdout.lines().last().unwrap_or("").to_string();
    if !summary.starts_with(&format!("{} synced", people.users)) {
        bail!("peerportal sync did not sync everyone: {summary}");
    }
    Ok(SweepFigures { users: people.users, wall, cpu, rss_kib, in_peeringdb: s.net.pdb.clock.total().saturating_sub(in_sim_before), summary })
}

fn print_sweep(args: &Args, s: &SweepFigures) {
    let per_user = |d: Duration| d / u32::try_from(s.users.max(1)).unwrap_or(u32::MAX);
    let (first, last) = (s.rss_kib.first().copied().unwrap_or(0), s.rss_kib.last().copied().unwrap_or(0));
    let peak = s.rss_kib.iter().copied().max().unwrap_or(0);
    // The RSS after the first tenth of the sweep against the end: flat means no growth per user.
    let warm = s.rss_kib.get(s.rss_kib.len() / 10).copied().unwrap_or(first);
    println!("\n### Re-sync sweep\n");
    println!(
        "`peerportal sync` of {} linked people (each in {} networks, one login each beforehand), SQLite, the request budget lifted; \
         every person: refresh grant (rotated token sealed and saved), `/profile/v1`, the grant plan in one transaction, \
         the access token revoked. The command is watched from /proc every 20 ms.\n",
        s.users, args.resync_networks
    );
    println!("| people | wall time (s) | people/s | portal CPU per person (ms) | simulator handler time per person (ms) | RSS at 10 % / end / peak (MiB) |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {:.1} | {:.0} | {} | {} | {} / {} / {} |",
        s.users,
        s.wall.as_secs_f64(),
        s.users as f64 / s.wall.as_secs_f64().max(1e-9),
        ms(per_user(s.cpu)),
        ms(per_user(s.in_peeringdb)),
        mib(&[warm]),
        mib(&[last]),
        mib(&[peak])
    );
    let minutes = (s.users as f64 * 3.0 / 60.0).ceil();
    println!(
        "\nAt the default budget (60 requests a minute, 3 per person, logins first) a sweep of {} people takes at least {:.0} minutes \
         ({:.1} h) even with no login at all; the default interval is 24 h. Summary line of the command: `{}`",
        s.users,
        minutes,
        minutes / 60.0,
        s.summary
    );
}

/// How to start `args.portal` on `db` with PeeringDB at `peeringdb`, the
/// secret key file in `keys`, after importing the customer list (what the
/// import said comes back too).
fn launcher_with_customers(args: &Args, db: &Database, keys: &Path, public: String, peeringdb: String) -> anyhow::Result<(Launcher, String)> {
    let launcher = Launcher {
        binary: args.portal.clone(),
        database_url: db.url().to_string(),
        secret_key_file: keys.join("secret.key"),
        public,
        peeringdb,
    };
    let csv = tempfile::NamedTempFile::new()?;
    std::fs::write(csv.path(), flow::customers_csv(args.customers))?;
    let imported = launcher.import_customers(csv.path())?;
    Ok((launcher, imported))
}

/// What every simulated browser shares: the replicas behind the "load
/// balancer", PeeringDB, and one HTTP client with its connection pool.
struct Net {
    pdb: Arc<PeeringDb>,
    bases: Vec<String>,
    http: reqwest::Client,
    users: usize,
}

impl Net {
    /// Login number `i`: started on one replica and finished on the next,
    /// as a round-robin balancer would; person `i` modulo the people.
    async fn login(&self, i: usize) -> anyhow::Result<flow::Timing> {
        let n = self.bases.len();
        login(&self.http, &self.pdb, &self.bases[i % n], &self.bases[(i + 1) % n], &flow::user_name(i % self.users)).await
    }

    /// Login number `i` as a browser makes it, on replica `i` modulo the replicas.
    async fn browser_login(&self, i: usize) -> anyhow::Result<Duration> {
        let base = &self.bases[i % self.bases.len()];
        Ok(flow::browser_login(&self.http, &Upstream::Simulator(self.pdb.clone()), base, i % self.users).await?.total)
    }
}

/// One database, its replicas and its PeeringDB.
struct Scenario {
    db: Database,
    launcher: Launcher,
    /// Holds the replicas' shared secret key file.
    _keys: tempfile::TempDir,
    replicas: Vec<Replica>,
    idle_rss_kib: Vec<u64>,
    net: Arc<Net>,
}

impl Scenario {
    async fn start(args: &Args, db: Database, count: usize) -> anyhow::Result<Scenario> {
        let ports: Vec<u16> = (0..count).map(|_| free_port()).collect::<Result<_, _>>()?;
        let public = format!("http://127.0.0.1:{}", ports[0]);
        let pdb = flow::peeringdb(&format!("{public}/auth/peeringdb/callback"), args.users, args.networks, args.customers).await?;
        let keys = tempfile::tempdir()?;
        let (launcher, imported) = launcher_with_customers(args, &db, keys.path(), public, pdb.base.clone())?;
        eprintln!("   {imported}");
        let mut replicas = Vec::new();
        for port in ports {
            replicas.push(launcher.start(port).await?);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle_rss_kib = replicas.iter().map(Replica::rss_kib).collect();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .pool_max_idle_per_host(args.concurrency * 2)
            .build()?;
        let bases = replicas.iter().map(|r| r.base.clone()).collect();
        let net = Arc::new(Net { pdb: Arc::new(pdb), bases, http, users: args.users });
        Ok(Scenario { db, launcher, _keys: keys, replicas, idle_rss_kib, net })
    }

    fn cpu(&self) -> Duration {
        self.replicas.iter().map(Replica::cpu).sum()
    }

    fn label(&self) -> String {
        let n = self.replicas.len();
        format!("{} · {n} replica{}", self.db.label(), if n > 1 { "s" } else { "" })
    }

    async fn logins(&self, args: &Args) -> anyhow::Result<LoginFigures> {
        // Everyone's first login creates the account and its grants; then
        // people the portal knows log in again. One at a time, to see the
        // portal's own time per callback.
        let first = self.one_at_a_time(0..args.users).await?;
        let repeat = self.one_at_a_time(args.users..args.users + args.sequential).await?;

        let cpu_before = self.cpu();
        let net = self.net.clone();
        let logins = storm(args, move |i| {
            let net = net.clone();
            async move { Ok(net.login(i).await?.total) }
        })
        .await?;
        let cpu = self.cpu().saturating_sub(cpu_before);
        // The high-water mark of the storm alone, before the browser flow's pages.
        let peak_rss_kib = self.replicas.iter().map(Replica::peak_rss_kib).collect();

        // The same, as a person's browser makes it: the login page and the
        // page the callback lands on as well, every request on one replica.
        let cpu_before = self.cpu();
        let net = self.net.clone();
        let browsers = storm(args, move |i| {
            let net = net.clone();
            async move { net.browser_login(i).await }
        })
        .await?;
        let browser_cpu = self.cpu().saturating_sub(cpu_before);
        Ok(LoginFigures {
            browser_per_second: browsers.per_second(),
            browser_cpu_per_login: browser_cpu / u32::try_from(browsers.done.len().max(1)).unwrap_or(u32::MAX),
            browser_storm: browsers.latencies(),
            browser_peak_rss_kib: self.replicas.iter().map(Replica::peak_rss_kib).collect(),
            label: self.label(),
            first,
            repeat,
            per_second: logins.per_second(),
            cpu_per_login: cpu / u32::try_from(logins.done.len().max(1)).unwrap_or(u32::MAX),
            storm: logins.latencies(),
            idle_rss_kib: self.idle_rss_kib.clone(),
            peak_rss_kib,
        })
    }

    async fn one_at_a_time(&self, logins: std::ops::Range<usize>) -> anyhow::Result<OwnTimes> {
        let mut callback = Vec::with_capacity(logins.len());
        let mut own = Vec::with_capacity(logins.len());
        let mut beside_handlers = Vec::with_capacity(logins.len());
        for i in logins {
            let in_sim_before = self.net.pdb.clock.total();
            let t = self.net.login(i).await?;
            let in_sim = self.net.pdb.clock.total().saturating_sub(in_sim_before);
            let at_peeringdb = t.at_peeringdb.context("the callback sent no Server-Timing for PeeringDB")?;
            callback.push(t.callback);
            own.push(t.callback.saturating_sub(at_peeringdb));
            beside_handlers.push(t.callback.saturating_sub(in_sim));
        }
        Ok(OwnTimes { callback: Latencies::new(callback), own: Latencies::new(own), beside_handlers: Latencies::new(beside_handlers) })
    }

    /// Server-rendered `/login` under load, and what a first visit downloads.
    async fn login_page(&self, args: &Args) -> anyhow::Result<PageFigures> {
        let base = self.net.bases[0].clone();
        let http = self.net.http.clone();
        let html = http.get(format!("{base}/login")).send().await?.text().await?;
        let mut assets = Vec::new();
        for path in stats::pkg_assets(&html) {
            let mut sizes = Vec::new();
            for encoding in ["identity", "gzip", "br"] {
                let r = http.get(format!("{base}{path}")).header(ACCEPT_ENCODING, encoding).send().await?;
                if !r.status().is_success() {
                    bail!("{path} answered {}", r.status());
                }
                let served = r.headers().get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("identity").to_string();
                let bytes = r.bytes().await?.len();
                sizes.push((served == encoding).then_some(bytes));
            }
            assets.push(Asset { path, raw: sizes[0].unwrap_or(0), gzip: sizes[1], br: sizes[2] });
        }

        let rss_before = self.replicas[0].rss_kib();
        let login = self.serve(args, format!("{base}/login"), None).await?;
        let rss_after = self.replicas[0].rss_kib();
        // The page a login lands on, for one person signed in: their
        // customers to pick from (or the one customer's dashboard).
        let signed_in = self.net.login(0).await?;
        let landing = self.serve(args, format!("{base}{}", signed_in.landing), Some(signed_in.cookies.join("; "))).await?;
        Ok(PageFigures { login, landing, landing_path: signed_in.landing, rss_before_kib: rss_before, rss_after_kib: rss_after, assets })
    }

    /// `url` asked for by `args.concurrency` clients at once, with `cookie`.
    async fn serve(&self, args: &Args, url: String, cookie: Option<String>) -> anyhow::Result<Served> {
        let http = self.net.http.clone();
        let cpu_before = self.cpu();
        let storm = storm(args, move |_| {
            let (http, url, cookie) = (http.clone(), url.clone(), cookie.clone());
            async move {
                let t = Instant::now();
                let mut req = http.get(&url);
                if let Some(cookie) = cookie {
                    req = req.header(reqwest::header::COOKIE, cookie);
                }
                let r = req.send().await?;
                let status = r.status();
                let body = r.bytes().await?;
                if status != 200 || body.is_empty() {
                    bail!("{url} answered {status}");
                }
                Ok(t.elapsed())
            }
        })
        .await?;
        let cpu = self.cpu().saturating_sub(cpu_before);
        Ok(Served {
            per_second: storm.per_second(),
            cpu_per_request: cpu / u32::try_from(storm.done.len().max(1)).unwrap_or(u32::MAX),
            latencies: storm.latencies(),
        })
    }
}

/// What a storm ran into: how many at once, for how long, how many at most.
#[derive(Clone, Copy)]
struct Bounds {
    clients: usize,
    seconds: u64,
    max: usize,
}

impl From<&Args> for Bounds {
    fn from(args: &Args) -> Bounds {
        Bounds { clients: args.concurrency, seconds: args.seconds, max: args.max_requests }
    }
}

struct Storm<T> {
    done: Vec<T>,
    elapsed: Duration,
}

impl<T> Storm<T> {
    fn per_second(&self) -> f64 {
        self.done.len() as f64 / self.elapsed.as_secs_f64()
    }
}

impl Storm<Duration> {
    fn latencies(self) -> Latencies {
        Latencies::new(self.done)
    }
}

/// `clients` workers call `one(i)` with i = 0, 1, 2, … until the time or
/// the request budget runs out; the first error stops everything.
async fn storm<F, Fut, T>(bounds: impl Into<Bounds>, one: F) -> anyhow::Result<Storm<T>>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send,
    T: Send + 'static,
{
    let Bounds { clients, seconds, max } = bounds.into();
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for _ in 0..clients {
        let (next, stop, one) = (next.clone(), stop.clone(), one.clone());
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= max {
                    break;
                }
                match one(i).await {
                    Ok(t) => done.push(t),
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
            Ok(done)
        }));
    }
    let mut all = Vec::new();
    let mut first_error = None;
    for w in workers {
        match w.await? {
            Ok(done) => all.extend(done),
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    let elapsed = started.elapsed();
    if let Some(e) = first_error {
        return Err(e.context("during the storm"));
    }
    Ok(Storm { done: all, elapsed })
}

struct OwnTimes {
    callback: Latencies,
    /// The callback minus PeeringDB's two round trips as the portal timed them.
    own: Latencies,
    /// The callback minus only the time inside the simulator's handlers
    /// (so the HTTP client and server work of those round trips counts).
    beside_handlers: Latencies,
}

struct LoginFigures {
    label: String,
    /// The complete browser flow: login page, button, callback, landing page.
    browser_storm: Latencies,
    browser_per_second: f64,
    browser_cpu_per_login: Duration,
    browser_peak_rss_kib: Vec<u64>,
    first: OwnTimes,
    repeat: OwnTimes,
    storm: Latencies,
    per_second: f64,
    cpu_per_login: Duration,
    idle_rss_kib: Vec<u64>,
    peak_rss_kib: Vec<u64>,
}

struct Asset {
    path: String,
    raw: usize,
    gzip: Option<usize>,
    br: Option<usize>,
}

/// One page asked for under load.
struct Served {
    per_second: f64,
    cpu_per_request: Duration,
    latencies: Latencies,
}

struct PageFigures {
    /// `/login` for a visitor without a session.
    login: Served,
    /// Where a login lands, signed in.
    landing: Served,
    landing_path: String,
    rss_before_kib: u64,
    rss_after_kib: u64,
    assets: Vec<Asset>,
}

fn mib(kib: &[u64]) -> String {
    kib.iter().map(|k| format!("{:.1}", *k as f64 / 1024.0)).collect::<Vec<_>>().join(" + ")
}

fn kb(bytes: Option<usize>) -> String {
    bytes.map_or_else(|| "not served".to_string(), |b| format!("{b}"))
}

fn print_report(args: &Args, logins: &[LoginFigures], page: Option<&PageFigures>) {
    println!("### Complete PeeringDB logins\n");
    println!(
        "{} customers (every tenth with two ASNs); {} people, each in {} networks on PeeringDB that are all customers \
         (admin of every other one). The simulator runs in the load driver; the portal is the release binary, \
         RUST_LOG=warn. With two replicas every login starts on one and finishes on the other.\n",
        args.customers, args.users, args.networks
    );
    println!(
        "**The portal's own time per callback** (`GET /auth/peeringdb/callback` as the browser timed it, minus PeeringDB's \
         two round trips as the portal timed them, from its `Server-Timing` header), logins one at a time, ms p50 / p99 / max. \
         For comparison, the repeat callback minus only the time inside the simulator's handlers, and the whole repeat callback:\n"
    );
    println!(
        "| database · replicas | first login ({} people: account + {} grants) | repeat login ({} logins) | repeat, minus simulator handlers only | whole callback, repeat |",
        args.users, args.networks, args.sequential
    );
    println!("|---|---|---|---|---|");
    for f in logins {
        println!("| {} | {} | {} | {} | {} |", f.label, f.first.own.cell(), f.repeat.own.cell(), f.repeat.beside_handlers.cell(), f.repeat.callback.cell());
    }
    println!(
        "\n**Login storm**: {} browsers at once for {} s (start redirect + callback; the consent page is skipped), \
         the portal's CPU from /proc (user + system, all replicas):\n",
        args.concurrency, args.seconds
    );
    println!("| database · replicas | logins/s | latency p50 / p99 / max (ms) | portal CPU per login (ms) | RSS idle (MiB) | RSS peak (MiB) |");
    println!("|---|---|---|---|---|---|");
    for f in logins {
        println!(
            "| {} | {:.0} | {} | {} | {} | {} |",
            f.label,
            f.per_second,
            f.storm.cell(),
            ms(f.cpu_per_login),
            mib(&f.idle_rss_kib),
            mib(&f.peak_rss_kib)
        );
    }
    println!(
        "\n**The complete browser flow**: the same storm, each login as a person's browser makes it at the portal: \
         `GET /login`, the button's POST, (the consent, in the simulator), the callback, and `GET` of the page it lands on \
         (the picker or the dashboard) with the new session; every request of a login on one replica:\n"
    );
    println!("| database · replicas | logins/s | latency p50 / p99 / max (ms) | portal CPU per complete login (ms) | RSS peak (MiB) |");
    println!("|---|---|---|---|---|");
    for f in logins {
        println!(
            "| {} | {:.0} | {} | {} | {} |",
            f.label,
            f.browser_per_second,
            f.browser_storm.cell(),
            ms(f.browser_cpu_per_login),
            mib(&f.browser_peak_rss_kib)
        );
    }
    let Some(p) = page else { return };
    println!("\n### Server-rendered `/login`\n");
    println!(
        "{} clients at once for {} s on one replica (SQLite), the client in the same 2 cores:\n",
        args.concurrency, args.seconds
    );
    println!("| requests/s | latency p50 / p99 / max (ms) | portal CPU per request (ms) | RSS before / after (MiB) |");
    println!("|---|---|---|---|");
    println!(
        "| {:.0} | {} | {} | {} / {} |",
        p.login.per_second,
        p.login.latencies.cell(),
        ms(p.login.cpu_per_request),
        mib(&[p.rss_before_kib]),
        mib(&[p.rss_after_kib])
    );
    println!(
        "\nThe page a login lands on (`{}`: the customers a person in {} networks picks from), the same way, \
         signed in as that person:\n",
        p.landing_path.split('?').next().unwrap_or(""),
        args.networks
    );
    println!("| requests/s | latency p50 / p99 / max (ms) | portal CPU per request (ms) |");
    println!("|---|---|---|");
    println!("| {:.0} | {} | {} |", p.landing.per_second, p.landing.latencies.cell(), ms(p.landing.cpu_per_request));
    println!("\n### First load of `/login`\n");
    println!("Every asset the page links to, as the portal serves it (bytes on the wire for each `Accept-Encoding`):\n");
    println!("| asset | raw | gzip | brotli |");
    println!("|---|---|---|---|");
    for a in &p.assets {
        println!("| `{}` | {} | {} | {} |", a.path, a.raw, kb(a.gzip), kb(a.br));
    }
    let sum = |f: fn(&Asset) -> Option<usize>| -> Option<usize> { p.assets.iter().map(f).sum() };
    println!(
        "| **total** | **{}** | **{}** | **{}** |",
        p.assets.iter().map(|a| a.raw).sum::<usize>(),
        kb(sum(|a| a.gzip)),
        kb(sum(|a| a.br))
    );
}
