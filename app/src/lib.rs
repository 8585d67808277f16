//! PeerPortal's pages, components, shared types and server functions.
//!
//! Compiled twice: with `ssr` into the server, with `hydrate` into the WASM
//! bundle. Nothing secret may live here.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
mod components;
pub mod console;
mod error;
mod model;
mod pages;

pub use domain::customer::format_asns;
pub use domain::login::{encode_query_component, login_error_next_step, login_error_text, safe_next};
pub use domain::{Actor, AuditEvent, CreatedVia, CustomerKind, CustomerStatus, LoginError, LoginMethod, Role, Source};
pub use error::AppError;
pub use model::*;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::api::auth::{current_user, get_site_info};

/// The query parameter naming the server function whose plain form post
/// just succeeded (added by the server's form layer, read by the pages).
pub const FORM_OK: &str = "__ok";

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    backend::send_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The signed-in person, read once per page.
#[derive(Clone, Copy)]
pub struct MeResource(pub Resource<Result<Option<Me>, AppError>>);

/// Public operator settings (PeeringDB button, demo banner).
#[derive(Clone, Copy)]
pub struct SiteResource(pub Resource<Result<SiteInfo, AppError>>);

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    // The pages render on the server only: each request reads who is signed
    // in once, before the page (and its header) renders.
    let me = Resource::new_blocking(|| (), |_| current_user());
    provide_context(MeResource(me));
    let site = Resource::new_blocking(|| (), |_| get_site_info());
    provide_context(SiteResource(site));

    view! {
        <Stylesheet id="leptos" href="/pkg/peerportal.css"/>
        <Title formatter=|t: String| if t.is_empty() { "PeerPortal".to_string() } else { format!("{t} · PeerPortal") }/>
        <Router>
            <div id="app">
                <HydrationMarker/>
                <components::layout::Header/>
                <main id="main">
                    <components::layout::Flash/>
                    <Routes fallback=pages::not_found::NotFound>
                        // Async: the whole page waits for its data, so it is complete without JavaScript.
                        <Route path=path!("/login") view=pages::login::LoginPage ssr=SsrMode::Async/>
                        <Route path=path!("/") view=pages::dashboard::Dashboard ssr=SsrMode::Async/>
                        <Route path=path!("/choose") view=pages::choose::ChoosePage ssr=SsrMode::Async/>
                        <Route path=path!("/account") view=pages::account::AccountPage ssr=SsrMode::Async/>
                        <Route path=path!("/account/2fa") view=pages::two_factor::TwoFactorPage ssr=SsrMode::Async/>
                        <Route path=path!("/login/2fa") view=pages::two_factor::SecondFactorPage ssr=SsrMode::Async/>
                        <Route path=path!("/login/forgot") view=pages::reset::ForgotPage ssr=SsrMode::Async/>
                        <Route path=path!("/reset/:token") view=pages::reset::ResetPage ssr=SsrMode::Async/>
                        <Route path=path!("/invitation/:token") view=pages::invitation::InvitationPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin") view=pages::admin::overview::OverviewPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/customers") view=pages::admin::customers::CustomersPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/customers/new") view=pages::admin::customers::CustomerPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/customers/import") view=pages::admin::customers::ImportPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/customers/import-ixf") view=pages::admin::customers::IxfImportPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/customers/:id") view=pages::admin::customers::CustomerPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/users") view=pages::admin::users::UsersPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/users/new") view=pages::admin::users::NewUserPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/users/:id") view=pages::admin::users::UserPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/audit") view=pages::admin::audit::AuditPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/peeringdb") view=pages::admin::peeringdb::PeeringDbPage ssr=SsrMode::Async/>
                        <Route path=path!("/admin/mail") view=pages::admin::mail::MailPage ssr=SsrMode::Async/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// Marks `#app` once the bundle has run. Tests wait for it: a page whose
/// WASM failed still renders fine on the server, so only a browser that ran
/// an island's effect proves the islands are live.
#[island]
fn HydrationMarker() -> impl IntoView {
    Effect::new(move |_| {
        if let Some(app) = document().get_element_by_id("app") {
            // Cannot fail for a valid attribute name.
            let _ = app.set_attribute("data-hydrated", "true");
        }
    });
}
