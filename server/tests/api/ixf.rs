//! `peerportal customers import-ixf`: the members of one exchange of an
//! IX-F Member Export, from a file or a URL, in one transaction.

use crate::helpers::{spawn, TestApp};

fn fixture(name: &str) -> String {
    format!("{}/../fixtures/ixf/{name}", env!("CARGO_MANIFEST_DIR"))
}

async fn customers(t: &TestApp) -> Vec<String> {
    peerportal::cli::customers_list(&t.db).await.unwrap().lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect()
}

async fn with_known_customers() -> TestApp {
    let t = spawn().await;
    let csv = "name,shortname,asns,type,status,peeringdb_login\nAlpha,alpha,64501,full,active,false\nGone Networks,gone,65000,full,active,true\n";
    peerportal::cli::customers_import(&t.db, csv, true).await.unwrap();
    t
}

#[tokio::test]
async fn an_export_creates_and_updates_customers_and_names_those_it_no_longer_lists() {
    let t = with_known_customers().await;
    let portal = t.portal();
    let before = customers(&t).await;
    let audit_before = t.count("audit_log").await;

    let dry = peerportal::cli::customers_import_ixf(&portal, &fixture("v1.0.json"), Some(1), true, true).await.unwrap();
    assert!(dry.starts_with("EX-IX (ixp_id 1): 4 customers, 3 new, 1 updated"), "{dry}");
    assert!(dry.contains("not in the export at this exchange (kept; look at them): gone") && dry.contains("dry run"), "{dry}");
    assert_eq!(customers(&t).await, before, "a dry run writes nothing");
    assert_eq!(t.count("audit_log").await, audit_before);

    let out = peerportal::cli::customers_import_ixf(&portal, &fixture("v1.0.json"), Some(1), true, false).await.unwrap();
    assert!(!out.contains("dry run"), "{out}");
    let list = customers(&t).await;
    for line in [
        "alpha Alpha Net full active off AS64500, AS64501",
        "beta-carrier Beta Carrier full suspended on AS64510",
        "example-ix-route-servers Example IX Route Servers internal active on AS64520",
        "gamma-research Gamma Research associate active on AS64530",
        "gone Gone Networks full active on AS65000",
    ] {
        assert!(list.iter().any(|l| l == line), "{line} not in {list:#?}");
    }
    let details: String = sqlx_details(&t).await;
    assert!(details.contains("\"source\":\"ixf\"") && details.contains("\"not_in_export\":[\"gone\"]"), "{details}");
}

/// The last import's audit details, without the spaces PostgreSQL's
/// JSON text has.
async fn sqlx_details(t: &TestApp) -> String {
    let sql = "SELECT CAST(details AS TEXT) FROM audit_log WHERE event = 'customers.imported' ORDER BY id DESC LIMIT 1";
    let text = peerportal::with_db!(&t.db, p => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await).unwrap();
    text.replace(' ', "")
}

#[tokio::test]
async fn a_malformed_export_is_refused_with_its_place_and_nothing_is_written() {
    let t = with_known_customers().await;
    let portal = t.portal();
    let before = customers(&t).await;
    for (file, place) in [("malformed-asnum.json", "member_list[1].asnum"), ("malformed-state.json", "member_list[0].connection_list[0].state")] {
        let e = peerportal::cli::customers_import_ixf(&portal, &fixture(file), None, true, false).await.unwrap_err().to_string();
        assert!(e.contains("nothing was imported") && e.contains(place), "{e}");
    }
    let e = peerportal::cli::customers_import_ixf(&portal, &fixture("v1.0.json"), None, true, false).await.unwrap_err().to_string();
    assert!(e.contains("choose one by its ixp_id"), "{e}");
    assert_eq!(customers(&t).await, before);
}

#[tokio::test]
async fn an_export_is_read_from_its_url() {
    let t = with_known_customers().await;
    let body = std::fs::read_to_string(fixture("v0.7.json")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/api/v4/member-export/ixf/0.7", axum::routing::get(move || async move { body }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let out = peerportal::cli::customers_import_ixf(&t.portal(), &format!("{base}/api/v4/member-export/ixf/0.7"), None, true, false).await.unwrap();
    assert!(out.starts_with("EX-IX (ixp_id 1): 2 customers, 2 new, 0 updated") && out.contains("(kept; look at them): alpha, gone"), "{out}");
    let missing = peerportal::cli::customers_import_ixf(&t.portal(), &format!("{base}/nothing-here"), None, true, false).await.unwrap_err();
    assert!(missing.to_string().contains("404"), "{missing}");
}

#[tokio::test]
async fn the_scheduled_import_applies_the_published_export_on_one_replica_and_reports_what_it_lacks() {
    let body = std::fs::read_to_string(fixture("v1.0.json")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ixf.json", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/ixf.json", axum::routing::get(move || async move { body }));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let off = spawn().await;
    assert!(peerportal::portal::customers::refresh_ixf(&off.portal(), "a").await.unwrap().is_none(), "off without PEERPORTAL_IXF_URL");

    let t = crate::helpers::spawn_with(&[("PEERPORTAL_IXF_URL", &url), ("PEERPORTAL_IXF_IXP_ID", "1"), ("PEERPORTAL_IXF_MEMBER_TYPES", "other=probono")]).await;
    let csv = "name,shortname,asns,type,status,peeringdb_login\nGone Networks,gone,3320,full,active,true\n";
    peerportal::cli::customers_import(&t.db, csv, false).await.unwrap();
    // The fixture's ASNs are documentation numbers: the schedule, which
    // allows no reserved ASN, refuses the export and writes nothing.
    let e = peerportal::portal::customers::refresh_ixf(&t.portal(), "replica-a").await.unwrap_err();
    assert!(e.contains("member_list[0].asnum"), "{e}");
    assert_eq!(customers(&t).await.len(), 3, "the header, gone and the count");

    let public = std::fs::read_to_string(fixture("v1.0.json")).unwrap().replace("645", "2045");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ixf.json", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/ixf.json", axum::routing::get(move || async move { public }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let t2 = crate::helpers::spawn_with(&[("PEERPORTAL_IXF_URL", &url), ("PEERPORTAL_IXF_IXP_ID", "1"), ("PEERPORTAL_IXF_MEMBER_TYPES", "other=probono")]).await;
    peerportal::cli::customers_import(&t2.db, csv, false).await.unwrap();
    let r = peerportal::portal::customers::refresh_ixf(&t2.portal(), "replica-a").await.unwrap().expect("replica a holds the lease");
    assert_eq!((r.created, r.updated, r.missing.clone()), (4, 0, vec!["gone".to_string()]));
    assert!(customers(&t2).await.iter().any(|l| l == "gamma-research Gamma Research probono active on AS204530"), "{:#?}", customers(&t2).await);
    assert!(peerportal::portal::customers::refresh_ixf(&t2.portal(), "replica-b").await.unwrap().is_none(), "another replica waits its turn");
    let actor = peerportal::with_db!(&t2.db, p => sqlx::query_scalar::<_, String>("SELECT actor FROM audit_log WHERE event = 'customers.imported' ORDER BY id DESC LIMIT 1").fetch_one(p).await).unwrap();
    assert_eq!(actor, "ixf");
}

/// The console's IX-F page: a superadmin, the known customers, and the
/// rows as they were before anything was imported.
async fn console() -> (TestApp, reqwest::Client, Vec<String>) {
    let t = with_known_customers().await;
    crate::console::local_user(&t, "ops", true).await;
    let ops = crate::console::logged_in(&t, "ops").await;
    let before = t.snapshot_without_audit().await;
    (t, ops, before)
}

const PAGE: &str = "/admin/customers/import-ixf";

#[tokio::test]
async fn the_console_previews_a_pasted_export_and_imports_exactly_what_it_showed() {
    use crate::console::{f, location, ok_json, plain_post};
    let (t, ops, before) = console().await;
    let json = std::fs::read_to_string(fixture("v1.0.json")).unwrap();

    // The preview is the page answering its own form: nothing is written.
    let html = plain_post(&ops, &t, PAGE, PAGE, &f(&[("json", &json), ("ixp_id", "1"), ("allow_reserved", "on")])).await.text().await.unwrap();
    assert!(html.contains("EX-IX (ixp_id 1): every member is valid: 3 to create, 1 to update."), "the preview counts");
    assert!(html.contains("Import 4 customers") && html.contains("gamma-research"), "the preview offers the import, row by row");
    assert!(html.contains("1 customer(s) are not in the export at EX-IX") && html.contains("href=\"/admin/customers?q=gone\""), "the customer the export lacks is named");
    assert_eq!(t.snapshot_without_audit().await, before, "a preview writes nothing");

    // Several exchanges and no choice, or a malformed file: each problem by its place, nothing written.
    let html = plain_post(&ops, &t, PAGE, PAGE, &f(&[("json", &json), ("allow_reserved", "on")])).await.text().await.unwrap();
    assert!(html.contains("Nothing was imported") && html.contains("choose one by its ixp_id"), "which exchange is asked for");
    let malformed = std::fs::read_to_string(fixture("malformed-asnum.json")).unwrap();
    let html = plain_post(&ops, &t, PAGE, PAGE, &f(&[("json", &malformed)])).await.text().await.unwrap();
    assert!(html.contains("Nothing was imported") && html.contains("member_list[1].asnum"), "the bad place is named");
    assert_eq!(t.snapshot_without_audit().await, before);

    // Import: the preview's digest holds the import to the export it showed.
    let form = |digest: &str| f(&[("json", &json), ("ixp_id", "1"), ("allow_reserved", "on"), ("digest", digest), ("commit", "on")]);
    let preview = ok_json(&ops, &t, "admin/import_ixf", &f(&[("json", &json), ("ixp_id", "1"), ("allow_reserved", "on")])).await;
    let digest = preview["digest"].as_str().unwrap().to_string();
    let stale = crate::console::call(&ops, &t, "admin/import_ixf", &form("a-digest-of-another-export")).await;
    assert_eq!(stale.status(), 409);
    assert!(stale.text().await.unwrap().contains("changed after the preview"));
    assert_eq!(t.snapshot_without_audit().await, before, "a stale import writes nothing");

    let resp = plain_post(&ops, &t, "/api/admin/import_ixf", PAGE, &form(&digest)).await;
    let back = location(&resp);
    assert!(back.starts_with(PAGE), "{back}");
    let html = ops.get(t.url(&back)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Imported from the IX-F export: 3 created, 1 updated."), "the import says what it wrote");
    assert!(customers(&t).await.iter().any(|l| l == "gamma-research Gamma Research associate active on AS64530"));
    let (actor, details) = last_import(&t).await;
    assert!(actor.starts_with("user:"), "{actor}");
    assert!(details.contains("\"not_in_export\":[\"gone\"]") && !details.contains("\"url\""), "{details}");
}

#[tokio::test]
async fn the_console_fetches_an_export_by_url_keeps_its_key_out_of_the_audit_and_refuses_one_that_changed() {
    use crate::console::{call, f, ok_json};
    let (t, ops, before) = console().await;
    let export = std::sync::Arc::new(std::sync::Mutex::new(std::fs::read_to_string(fixture("v0.7.json")).unwrap()));
    let served = export.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/ixf", axum::routing::get(move || async move { served.lock().unwrap().clone() }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let url = format!("{base}/ixf?apikey=ixf-api-key");

    let preview = ok_json(&ops, &t, "admin/import_ixf", &f(&[("url", &url), ("allow_reserved", "on")])).await;
    assert_eq!((preview["rows"].as_array().unwrap().len(), preview["committed"].as_bool()), (2, Some(false)), "{preview}");
    let digest = preview["digest"].as_str().unwrap().to_string();

    // The exchange publishes a new export between the preview and the import.
    *export.lock().unwrap() = std::fs::read_to_string(fixture("v0.6.json")).unwrap();
    let commit = f(&[("url", &url), ("allow_reserved", "on"), ("digest", &digest), ("commit", "on")]);
    let resp = call(&ops, &t, "admin/import_ixf", &commit).await;
    assert_eq!(resp.status(), 409, "the export changed: preview again");
    assert_eq!(t.snapshot_without_audit().await, before);

    let preview = ok_json(&ops, &t, "admin/import_ixf", &f(&[("url", &url), ("allow_reserved", "on")])).await;
    let commit = f(&[("url", &url), ("allow_reserved", "on"), ("digest", preview["digest"].as_str().unwrap()), ("commit", "on")]);
    assert_eq!(ok_json(&ops, &t, "admin/import_ixf", &commit).await["committed"], true);
    let (_, details) = last_import(&t).await;
    assert!(details.contains(&format!("\"url\":\"{base}/ixf?…\"")), "{details}");
    assert!(!details.contains("ixf-api-key"), "{details}");

    // Not a URL the console fetches, or one that fails: the reason, nothing written.
    let after = t.snapshot_without_audit().await;
    for (form, reason) in [
        (f(&[("url", "/etc/passwd")]), "must start with https://"),
        (f(&[("url", "file:///etc/passwd")]), "must start with https://"),
        (f(&[("url", &format!("{base}/nothing?apikey=ixf-api-key"))]), "404"),
        (f(&[("url", &url), ("json", "{}")]), "not both"),
        (f(&[]), "Paste the export"),
    ] {
        let resp = call(&ops, &t, "admin/import_ixf", &form).await;
        assert_eq!(resp.status(), 422, "{reason}");
        let text = resp.text().await.unwrap();
        assert!(text.contains(reason) && !text.contains("ixf-api-key"), "{text}");
    }
    assert_eq!(t.snapshot_without_audit().await, after);
}

/// The last import's audit actor and details, without the spaces
/// PostgreSQL's JSON text has.
async fn last_import(t: &TestApp) -> (String, String) {
    let sql = "SELECT actor, CAST(details AS TEXT) FROM audit_log WHERE event = 'customers.imported' ORDER BY id DESC LIMIT 1";
    let (actor, details) = peerportal::with_db!(&t.db, p => sqlx::query_as::<_, (String, String)>(sql).fetch_one(p).await).unwrap();
    (actor, details.replace(' ', ""))
}
