use clap::Parser;

use peerportal::cli::{AdminCommand, Cli, Command, CustomersCommand, KeysCommand, UsersCommand};
use peerportal::portal::Portal;
use peerportal::config::Config;
use peerportal::store::Db;
use peerportal::startup::Application;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The server spreads requests over every core; a command does one
    // thing at a time, and on one thread its database calls do not bounce
    // between runtime workers (a sweep spent most of its CPU on those
    // thread switches).
    let runtime = match cli.command {
        None | Some(Command::Serve) => tokio::runtime::Builder::new_multi_thread(),
        Some(_) => tokio::runtime::Builder::new_current_thread(),
    }
    .enable_all()
    .build();
    let result = runtime.map_err(anyhow::Error::from).and_then(|rt| {
        rt.block_on(run(cli))
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("peerportal: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Under SSR load glibc's malloc took about half of the portal's CPU, much
/// of it waiting on the lock of the two arenas it was held to (more arenas
/// kept more memory); mimalloc gives every thread its own heap and returns
/// freed pages (the benchmark notes have the profiles).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc takes memory from the kernel in large aligned regions, and
/// where transparent huge pages are on for everything (`always`, common on
/// servers) each touched region counts 2 MiB at a time: 43 MiB at the peak
/// of a login storm instead of 30. The portal's heap is small and
/// short-lived; huge pages buy it nothing. Off for this process, as
/// `MIMALLOC_ALLOW_THP=0` would do; an operator's own setting wins.
///
/// It runs as a constructor, before `main` and before the first allocation
/// (constructors with a priority run before those without): a huge page
/// touched before it would stay (3.5 MiB more when this ran in `main`).
/// So it allocates nothing itself.
#[cfg(target_os = "linux")]
extern "C" fn no_transparent_huge_pages() {
    // SAFETY: getenv reads the environment libc set up before any
    // constructor; PR_SET_THP_DISABLE only sets a flag of this process.
    unsafe {
        if libc::getenv(c"MIMALLOC_ALLOW_THP".as_ptr()).is_null() {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array.00200")]
static NO_TRANSPARENT_HUGE_PAGES: extern "C" fn() = no_transparent_huge_pages;

async fn run(cli: Cli) -> anyhow::Result<()> {
    // Settings first: the log format is one of them. A bad setting is
    // the one line `main` prints.
    let (config, warnings) = Config::from_env()?;
    peerportal::telemetry::init(config.log_format);
    for w in warnings {
        tracing::warn!("{w}");
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            tracing::info!("{}", config.summary());
            let app = Application::build(config).await?;
            tracing::info!("listening on http://{}", app.local_addr()?);
            if let Some(addr) = app.metrics_addr() {
                tracing::info!("metrics on http://{addr}/metrics");
            }
            app.run_until_stopped(shutdown_signal()).await?;
        }
        Command::Migrate => {
            Db::connect(config.database_url.expose()).await?.migrate().await?;
            println!("database is up to date");
        }
        Command::CheckConfig => {
            let (report, passed) = peerportal::cli::check_config(&config).await;
            print!("{report}");
            if !passed {
                anyhow::bail!("a check failed");
            }
        }
        // Before any connection of ours: a restore needs the database to
        // itself.
        Command::Backup { file } => {
            let url = config.database_url.expose().to_string();
            let target = file.clone();
            let bytes = tokio::task::spawn_blocking(move || peerportal::backup::backup(&url, &target)).await??;
            println!("backed up to {} ({bytes} bytes); keep {} with it", file.display(), config.secret_key_file.display());
        }
        Command::Restore { file } => {
            let url = config.database_url.expose().to_string();
            let source = file.clone();
            let known = peerportal::store::sqlite_schema_version();
            tokio::task::spawn_blocking(move || peerportal::backup::restore(&url, &source, known)).await??;
            println!("restored {}; the portal migrates it at its next start", file.display());
        }
        other => {
            let db = Db::connect(config.database_url.expose()).await?;
            db.migrate().await?;
            // Every command reads (or creates) the same key file as the server.
            let portal = Portal::new(db.clone(), config)?;
            match other {
                Command::Admin { command: AdminCommand::Create { username, email, name } } => {
                    let password = peerportal::cli::read_admin_password()?;
                    let id = peerportal::cli::admin_create(&db, &username, &email, name.as_deref(), password).await?;
                    println!("created superadmin {username} (id {id})");
                }
                Command::Customers { command: CustomersCommand::Import { file, allow_reserved } } => {
                    let text = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
                    let (created, updated) = peerportal::cli::customers_import(&db, &text, allow_reserved).await?;
                    println!("imported {} customers ({created} new, {updated} updated)", created + updated);
                }
                Command::Customers { command: CustomersCommand::ImportIxf { source, ixp_id, allow_reserved, dry_run } } => {
                    print!("{}", peerportal::cli::customers_import_ixf(&portal, &source, ixp_id, allow_reserved, dry_run).await?)
                }
                Command::Customers { command: CustomersCommand::List } => print!("{}", peerportal::cli::customers_list(&db).await?),
                Command::Users { command: UsersCommand::List } => print!("{}", peerportal::cli::users_list(&db).await?),
                Command::Users { command: UsersCommand::Reset2fa { username } } => {
                    print!("{}", peerportal::cli::reset_two_factor(&portal, &username).await?)
                }
                Command::Sync { user, dry_run } => print!("{}", peerportal::cli::sync(&portal, user.as_deref(), dry_run).await?),
                Command::Keys { command: KeysCommand::Rotate } => {
                    let r = peerportal::cli::keys_rotate(&db, &portal.keys.ring()).await?;
                    println!("new key {} seals from now on; {} stored secrets re-sealed", r.key_id, r.resealed);
                    if !r.unreadable.is_empty() {
                        println!("{} could not be opened with any key (users {:?}): left as they are", r.unreadable.len(), r.unreadable);
                    }
                }
                Command::Serve | Command::Migrate | Command::CheckConfig | Command::Backup { .. } | Command::Restore { .. } => {}
            }
            portal.finish_background(std::time::Duration::from_secs(10)).await;
            db.close().await;
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
