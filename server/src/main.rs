use clap::Parser;

use peerportal::cli::{AdminCommand, Cli, Command, CustomersCommand, KeysCommand, UsersCommand};
use peerportal::portal::Portal;
use peerportal::config::Config;
use peerportal::store::Db;
use peerportal::startup::Application;

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
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
        rt.block_on(async {
            peerportal::telemetry::init();
            run(cli).await
        })
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("peerportal: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc gives every thread that allocates under contention its own arena
/// (up to 8 per core) and keeps their freed memory; two arenas keep the
/// memory of a login storm low for no measurable loss of throughput (the
/// benchmark notes have the figures). Must run before any thread starts; an
/// operator's own `MALLOC_ARENA_MAX` wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no other
        // thread exists yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (config, warnings) = Config::from_env()?;
    for w in warnings {
        tracing::warn!("{w}");
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            tracing::info!("{}", config.summary());
            let app = Application::build(config).await?;
            tracing::info!("listening on http://{}", app.local_addr()?);
            app.run_until_stopped(shutdown_signal()).await?;
        }
        Command::Migrate => {
            Db::connect(config.database_url.expose()).await?.migrate().await?;
            println!("database is up to date");
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
                Command::Serve | Command::Migrate => {}
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
