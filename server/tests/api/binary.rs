//! The `peerportal` binary as an operator runs it: its version, its log
//! format, its refusal of a bad setting.

use std::path::Path;
use std::process::{Command, Output};

fn peerportal(dir: &tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let db = format!("sqlite://{}/peerportal.db", dir.path().display());
    Command::new(env!("CARGO_BIN_EXE_peerportal"))
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("PEERPORTAL_DATABASE_URL", db)
        .envs(env.iter().copied())
        .output()
        .expect("run peerportal")
}

#[test]
fn the_binary_says_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = peerportal(&dir, &["--version"], &[]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("peerportal {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn json_logs_are_one_object_per_line_with_level_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = peerportal(&dir, &["migrate"], &[("PEERPORTAL_LOG_FORMAT", "json"), ("PEERPORTAL_NO_SUCH_SETTING", "1")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> =
        stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let warning = lines.iter().find(|l| l["message"].as_str().is_some_and(|m| m.contains("PEERPORTAL_NO_SUCH_SETTING"))).expect("the warning");
    assert_eq!(warning["level"], "WARN");
    assert!(warning["timestamp"].is_string());

    let text = peerportal(&dir, &["migrate"], &[("PEERPORTAL_NO_SUCH_SETTING", "1")]);
    let stderr = String::from_utf8_lossy(&text.stderr);
    assert!(stderr.contains("PEERPORTAL_NO_SUCH_SETTING") && !stderr.trim_start().starts_with('{'), "text is the default: {stderr}");
}

#[test]
fn a_bad_log_format_stops_the_binary_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = peerportal(&dir, &["migrate"], &[("PEERPORTAL_LOG_FORMAT", "xml")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("PEERPORTAL_LOG_FORMAT"), "{stderr}");
}

#[test]
fn backup_and_restore_run_as_commands() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = peerportal(&dir, &["migrate"], &[]);
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let file = dir.path().join("nightly.db");
    let backup = peerportal(&dir, &["backup", file.to_str().unwrap()], &[]);
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    assert!(String::from_utf8_lossy(&backup.stdout).contains("backed up to"));
    let restore = peerportal(&dir, &["restore", file.to_str().unwrap()], &[]);
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    let again = peerportal(&dir, &["backup", file.to_str().unwrap()], &[]);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("never overwrites"), "{stderr}");
}

/// `check-config` against a running simulator, or a port nobody answers.
async fn check_config(peeringdb: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let peeringdb = peeringdb.to_string();
    tokio::task::spawn_blocking(move || {
        peerportal(
            &dir,
            &["check-config"],
            &[
                ("AUTH_PEERINGDB_ENABLED", "true"),
                ("PEERINGDB_OAUTH_CLIENT_ID", "check-client"),
                ("PEERINGDB_OAUTH_CLIENT_SECRET", "check-secret-never-printed"),
                ("PEERINGDB_OAUTH_URL", &peeringdb),
                ("PEERPORTAL_METRICS_LISTEN", "127.0.0.1:9464"),
            ],
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn check_config_prints_the_settings_without_secrets_and_asks_peeringdb() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sim = peeringdb_sim::Simulator::new(peeringdb_sim::Client {
        client_id: "check-client".into(),
        client_secret: "check-secret-never-printed".into(),
        redirect_uris: vec![],
    });
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let out = check_config(&base).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    // A debug build finds the bundle in target/site only once it is built
    // (`make test` builds it after this suite); every other check passes.
    let bundle = stdout.contains("ok      browser bundle");
    assert_eq!(out.status.success(), bundle, "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.matches("FAILED").count(), usize::from(!bundle), "{stdout}");
    assert!(stdout.contains("PEERINGDB_OAUTH_CLIENT_SECRET = (set, hidden)"), "{stdout}");
    assert!(stdout.contains("PEERPORTAL_METRICS_LISTEN = 127.0.0.1:9464"), "{stdout}");
    assert!(stdout.contains(&format!("ok      PeeringDB discovery: {base}/oauth2 answers")), "{stdout}");
    assert!(stdout.contains("will be created at the first start"), "a check creates no database: {stdout}");
    assert_eq!(sim.oidc_calls().0, 1, "the discovery document was fetched");

    // Nobody on that port: the check fails, naming what.
    let closed = format!("http://127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    let out = check_config(&closed).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(stdout.contains("FAILED  PeeringDB discovery"), "{stdout}");
    for text in [&stdout, &String::from_utf8_lossy(&out.stderr)] {
        assert!(!text.contains("check-secret-never-printed"));
    }
}

/// What `deploy/peerportal.service` sets, with its paths moved into `state`
/// and `credentials` (the test cannot write /var/lib).
fn unit_environment(state: &Path, credentials: &Path) -> Vec<(String, String)> {
    let unit = include_str!("../../../deploy/peerportal.service");
    let file = include_str!("../../../deploy/peerportal.env");
    let moved = |v: &str| v.replace("/var/lib/peerportal", &state.display().to_string()).replace("%d", &credentials.display().to_string());
    let from_unit = unit.lines().filter_map(|l| l.strip_prefix("Environment="));
    let from_file = file.lines().filter(|l| !l.starts_with('#') && l.contains('='));
    from_unit.chain(from_file).filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), moved(v))).collect()
}

#[tokio::test]
async fn the_binary_serves_as_the_systemd_unit_runs_it_with_only_its_state_directory_writable() {
    let unit = include_str!("../../../deploy/peerportal.service");
    assert!(unit.lines().any(|l| l == "WorkingDirectory=/var/lib/peerportal") && unit.lines().any(|l| l == "StateDirectory=peerportal"));
    assert!(unit.lines().any(|l| l == "ProtectSystem=strict") && unit.lines().any(|l| l == "DynamicUser=yes"));
    let binary = env!("CARGO_BIN_EXE_peerportal");
    // The unit as systemd reads it, where systemd-analyze is installed.
    let unit_dir = tempfile::tempdir().unwrap();
    let unit_file = unit_dir.path().join("peerportal.service");
    std::fs::write(&unit_file, unit.replace("/usr/local/bin/peerportal", binary)).unwrap();
    if let Ok(out) = Command::new("systemd-analyze").arg("verify").arg("--man=no").arg(&unit_file).output() {
        assert!(out.status.success() && out.stderr.is_empty(), "systemd-analyze verify: {}", String::from_utf8_lossy(&out.stderr));
    }

    let root = tempfile::tempdir().unwrap();
    let (state, credentials) = (root.path().join("state"), root.path().join("credentials"));
    std::fs::create_dir_all(&state).unwrap();
    std::fs::create_dir_all(&credentials).unwrap();
    std::fs::write(credentials.join("peeringdb-client-secret"), "unit-test-client-secret").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = Command::new(binary);
    // As root, the service's own unprivileged user: nothing but the state
    // directory (and /tmp) is writable to it, as with DynamicUser= and
    // ProtectSystem=strict.
    let root_user = unsafe { libc::geteuid() } == 0;
    if root_user {
        std::os::unix::fs::chown(&state, Some(65534), Some(65534)).unwrap();
        std::os::unix::fs::chown(root.path(), Some(0), Some(0)).unwrap();
        std::fs::set_permissions(root.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        command = Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups", binary]);
    }
    let mut child = command
        .arg("serve")
        .current_dir(&state)
        .env_clear()
        .envs(unit_environment(&state, &credentials))
        .env("PEERPORTAL_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..300 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let login = if up { Some(client.get(format!("{base}/login")).send().await.unwrap()) } else { None };
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(up, "it did not come up: {stderr}");
    let login = login.unwrap();
    assert_eq!(login.status(), 200);
    assert!(login.text().await.unwrap().contains("Login with PeeringDB"));
    assert!(!stderr.contains("unit-test-client-secret"));

    let mut written: Vec<String> = std::fs::read_dir(&state).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    written.sort();
    assert!(written.starts_with(&["peerportal.db".to_string()]) && written.contains(&"peerportal.key".to_string()), "{written:?}");
    let key = std::fs::metadata(state.join("peerportal.key")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&key.permissions()) & 0o077, 0, "the key file is its owner's alone");
    if root_user {
        assert_eq!(std::os::unix::fs::MetadataExt::uid(&key), 65534, "written by the service's user");
    }
}
