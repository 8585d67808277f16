//! The `peerportal` binary as an operator runs it: its version, its log
//! format, its refusal of a bad setting.

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
