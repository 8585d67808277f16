//! Pages rendered on the server while other portals start in the same
//! process. Building a router lists the Leptos routes, and listing them
//! sets a process-wide flag that parks every resource started meanwhile on
//! a future that never wakes; the routes are therefore listed once per
//! process. Without that, about one render in fifteen hung here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::helpers::{spawn, ADMIN_PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_portals_start_in_the_same_process() {
    const RENDERS: usize = 200;
    const MAX_STARTS: usize = 2_000;
    let app = spawn().await;
    app.create_admin("ops").await;
    app.login_form("ops", ADMIN_PASSWORD).await;

    let stop = Arc::new(AtomicBool::new(false));
    let starter = std::thread::spawn({
        let stop = stop.clone();
        move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let mut started = 0;
            while !stop.load(Ordering::Relaxed) && started < MAX_STARTS {
                rt.block_on(async { drop(spawn().await) });
                started += 1;
            }
            started
        }
    });

    let mut hung = 0;
    for _ in 0..RENDERS {
        let render = async { app.get("/admin/customers").await.text().await };
        if tokio::time::timeout(Duration::from_secs(10), render).await.is_err() {
            hung += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let started = starter.join().expect("starter thread");
    assert!(started > 0, "no other portal started during the renders");
    assert_eq!(hung, 0, "{hung} of {RENDERS} renders never finished while {started} other portals started");
}
