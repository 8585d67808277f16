//! Mail through a real SMTP server: what is sent, to whom, when; and that
//! nothing is lost while the server is down.

use serde_json::json;

use crate::mailsink::MailSink;
use crate::peeringdb::{spawn_pdb, PdbApp};

async fn with_mail(sink: &MailSink, extra: &[(&str, &str)]) -> PdbApp {
    let settings = sink.settings();
    let mut env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra);
    spawn_pdb(&env).await
}

/// (sent, attempts, has bodies, last error) of every outbox row.
async fn outbox(t: &PdbApp) -> Vec<(bool, i64, bool, Option<String>)> {
    let sql = "SELECT sent_at IS NOT NULL, attempts, body_text IS NOT NULL, last_error FROM outbox ORDER BY id";
    peerportal::with_db!(&t.app.db, p => sqlx::query_as(sql).fetch_all(p).await).unwrap()
}

/// The outbox once the worker has tried (and failed) at least once
/// (bounded: 10 s).
async fn after_a_failed_try(t: &PdbApp) -> Vec<(bool, i64, bool, Option<String>)> {
    for _ in 0..500 {
        if outbox(t).await.first().is_some_and(|r| r.1 >= 1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    outbox(t).await
}

#[tokio::test]
async fn a_first_peeringdb_login_mails_a_welcome_that_lists_the_access() {
    let sink = MailSink::start();
    let t = with_mail(&sink, &[("PEERPORTAL_SUPPORT_EMAIL", "noc@ix.example")]).await;
    t.login_as("alice", true).await;
    let mails = sink.wait_for(1).await;
    let welcome = &mails[0];
    assert_eq!(welcome.rcpt_tos, ["alice@alpha.example"]);
    assert_eq!(welcome.from, "Example IX portal <portal@ix.example>");
    assert_eq!(welcome.to, "alice@alpha.example");
    assert_eq!(welcome.subject, "Welcome to Example IX portal");
    assert!(welcome.text.contains("Hello Alice Anders,"), "{}", welcome.text);
    assert!(welcome.text.contains("(username alice.anders)"), "{}", welcome.text);
    assert!(welcome.text.contains("  - Alpha Net, as admin\n  - Beta Net, as member\n"), "{}", welcome.text);
    assert!(welcome.text.contains(&t.app.url("/")), "{}", welcome.text);
    assert!(welcome.text.contains("Questions? Write to noc@ix.example."));
    assert!(welcome.html.contains("<li>Alpha Net, as admin</li>"), "{}", welcome.html);

    // The next login changes nothing: no mail.
    t.login_as("alice", true).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sink.received().len(), 1);
    let rows = outbox(&t).await;
    assert_eq!(rows, [(true, 1, false, None)], "sent once, and its bodies dropped");
}

#[tokio::test]
async fn a_login_that_changes_access_sends_one_mail_listing_every_change() {
    let sink = MailSink::start();
    let t = with_mail(&sink, &[]).await;
    t.login_as("alice", true).await;
    sink.wait_for(1).await;
    let mut profile = t.sim.profile("alice").unwrap();
    // Beta goes, Delta comes, Alpha drops to member.
    profile["networks"] = json!([{ "id": 1, "asn": 64500, "perms": 1 }, { "id": 3, "asn": 64510, "perms": 1 }]);
    t.sim.set_profile("alice", profile);
    t.login_as("alice", true).await;
    let mails = sink.wait_for(2).await;
    let changed = &mails[1];
    assert_eq!(changed.rcpt_tos, ["alice@alpha.example"]);
    assert_eq!(changed.subject, "Your access has changed");
    assert!(changed.text.contains("At your login with PeeringDB, your access changed:"), "{}", changed.text);
    assert!(
        changed.text.contains("  - Added: Delta Hosting, as member\n  - Changed: Alpha Net, from admin to member\n  - Removed: Beta Net\n"),
        "{}",
        changed.text
    );
    assert_eq!(sink.received().len(), 2);
}

#[tokio::test]
async fn a_resync_that_changes_access_mails_the_person() {
    let sink = MailSink::start();
    let t = with_mail(&sink, &[]).await;
    t.login_as("alice", true).await;
    sink.wait_for(1).await;
    let mut profile = t.sim.profile("alice").unwrap();
    profile["networks"] = json!([{ "id": 1, "asn": 64500, "perms": 15 }]);
    profile["email"] = json!("alice@new.example");
    t.sim.set_profile("alice", profile);
    let synced = t.app.portal().resync_user(peerportal::store::users::by_username(&t.app.db, "alice.anders").await.unwrap().unwrap().id, false).await;
    assert!(synced.is_ok());
    let mails = sink.wait_for(2).await;
    assert_eq!(mails[1].rcpt_tos, ["alice@new.example"], "to the address PeeringDB gives now");
    assert!(
        mails[1].text.contains("The portal checked your networks at PeeringDB and changed your access:\n\n  - Removed: Beta Net\n"),
        "{}",
        mails[1].text
    );
}

#[tokio::test]
async fn mail_waits_in_the_outbox_while_the_smtp_server_is_down_and_goes_out_once_when_it_is_back() {
    let mut sink = MailSink::start();
    let t = with_mail(&sink, &[]).await;
    sink.down();
    t.login_as("alice", true).await;
    // The worker tries, fails, and keeps the mail with the error.
    let rows = after_a_failed_try(&t).await;
    assert_eq!(rows.len(), 1);
    let (sent, attempts, bodies, error) = &rows[0];
    assert!(!sent && *attempts >= 1 && *bodies, "{rows:?}");
    assert!(error.as_deref().is_some_and(|e| !e.is_empty()), "{rows:?}");

    // The console shows it waiting, and why.
    crate::console::local_user(&t.app, "ops", true).await;
    let ops = crate::console::logged_in(&t.app, "ops").await;
    let page = ops.get(t.app.url("/admin/mail")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"mail-queue\"") && page.contains("Welcome to Example IX portal"), "{page}");
    assert!(page.contains(&format!("smtp://127.0.0.1:{} (no TLS)", sink.port)), "{page}");

    sink.up();
    // The retry waits its backoff (30 s); the operator's "Try now" skips it.
    let retried = crate::console::ok_json(&ops, &t.app, "admin/mail/retry", &[]).await;
    assert_eq!(retried, 1);
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].subject, "Welcome to Example IX portal");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sink.received().len(), 1, "none twice");
    assert!(outbox(&t).await[0].0);
}

#[tokio::test]
async fn without_smtp_settings_no_mail_is_written_and_the_console_says_mail_is_off() {
    let t = spawn_pdb(&[]).await;
    t.login_as("alice", true).await;
    assert_eq!(t.app.count("outbox").await, 0);
    crate::console::local_user(&t.app, "ops", true).await;
    let ops = crate::console::logged_in(&t.app, "ops").await;
    let page = ops.get(t.app.url("/admin/mail")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"mail-off\""), "{page}");
}

#[tokio::test]
async fn a_login_refused_because_every_network_is_gone_mails_what_was_removed() {
    let sink = MailSink::start();
    let t = with_mail(&sink, &[]).await;
    t.login_as("alice", true).await;
    sink.wait_for(1).await;
    let mut profile = t.sim.profile("alice").unwrap();
    profile["networks"] = json!([]);
    t.sim.set_profile("alice", profile);
    let refused = t.login_as("alice", true).await;
    assert!(refused.response.headers()["location"].to_str().unwrap().contains("pdb_no_customer"));
    let mails = sink.wait_for(2).await;
    assert!(mails[1].text.contains("  - Removed: Alpha Net\n  - Removed: Beta Net\n"), "{}", mails[1].text);
    assert!(mails[1].text.contains("ask your organisation's administrator at PeeringDB"), "{}", mails[1].text);
}

#[tokio::test]
async fn the_smtp_password_reaches_no_log_page_or_outbox_row() {
    let sink = MailSink::start();
    let url = format!("smtp://portal:{}@127.0.0.1:{}?tls=none", "smtp-SECRET-pw", sink.port);
    let t = spawn_pdb(&[("PEERPORTAL_SMTP_URL", &url), ("PEERPORTAL_MAIL_FROM", "portal@ix.example")]).await;
    t.login_as("alice", true).await;
    // The test server offers no AUTH: every try fails, with an error to record.
    let rows = after_a_failed_try(&t).await;
    assert!(rows[0].3.is_some(), "the failed try is recorded: {rows:?}");
    crate::console::local_user(&t.app, "ops", true).await;
    let ops = crate::console::logged_in(&t.app, "ops").await;
    let page = ops.get(t.app.url("/admin/mail")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("smtp://portal@127.0.0.1"), "{page}");
    for (what, text) in [("logs", t.app.logs.text()), ("mail page", page), ("outbox", format!("{rows:?}"))] {
        assert!(!text.contains("smtp-SECRET-pw"), "the SMTP password is in the {what}");
    }
}
