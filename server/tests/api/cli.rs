use crate::helpers::spawn;

#[tokio::test]
async fn importing_the_demo_exchange_lists_65_customers() {
    let app = spawn().await;
    let text = include_str!("../../../fixtures/customers.csv");
    let (created, updated) = peerportal::cli::customers_import(&app.db, text, true).await.unwrap();
    assert_eq!((created, updated), (65, 0));
    let listing = peerportal::cli::customers_list(&app.db).await.unwrap();
    assert!(listing.ends_with("65 customers\n"), "{listing}");
    assert!(listing.contains("Alpha Net") && listing.contains("AS64500"));

    // Importing again updates in place.
    let (created, updated) = peerportal::cli::customers_import(&app.db, text, true).await.unwrap();
    assert_eq!((created, updated), (0, 65));
    assert_eq!(app.count("customers").await, 65);
}

#[tokio::test]
async fn an_import_with_a_bad_row_imports_nothing() {
    let app = spawn().await;
    let text = "name,shortname,asns,type,status,peeringdb_login\nGood,good,64500,full,active,true\nBad,bad,notanasn,full,active,true\n";
    let err = peerportal::cli::customers_import(&app.db, text, true).await.unwrap_err().to_string();
    assert!(err.contains("line 3"), "{err}");
    assert_eq!(app.count("customers").await, 0);
}

#[tokio::test]
async fn admin_create_refuses_a_taken_username() {
    let app = spawn().await;
    app.create_admin("ops").await;
    let err = peerportal::cli::admin_create(&app.db, "OPS", "x@example.net", None, crate::helpers::ADMIN_PASSWORD.to_string().into()).await.unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let users = peerportal::cli::users_list(&app.db).await.unwrap();
    assert!(users.contains("ops") && users.ends_with("1 users\n"), "{users}");
}
