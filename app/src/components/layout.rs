use leptos::prelude::*;

use crate::{MeResource, SiteResource};

/// Site header: name, demo banner, who is signed in, log out.
#[component]
pub fn Header() -> impl IntoView {
    let me = expect_context::<MeResource>().0;
    let site = expect_context::<SiteResource>().0;
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <Suspense>
            {move || Suspend::new(async move {
                site.await.ok().filter(|s| s.demo).map(|_| view! {
                    <p class="demo-banner" role="note">
                        "Demo mode: sample customers and a built-in PeeringDB simulator. Nothing here is real."
                    </p>
                })
            })}
        </Suspense>
        <header class="site-header">
            <a class="brand" href="/">"PeerPortal"</a>
            <Suspense>
                {move || Suspend::new(async move {
                    me.await.ok().flatten().map(|me| view! {
                        <nav class="user-nav" aria-label="Account">
                            {(me.memberships.len() > 1).then(|| view! {
                                <a href="/choose" class="switch">
                                    {me.current().map_or("Choose a customer".to_string(), |c| format!("{} · switch", c.name))}
                                </a>
                            })}
                            {me.is_superadmin.then(|| view! { <a href="/admin/customers">"Admin"</a> })}
                            <a href="/account" class="who">{me.name.clone()}</a>
                            <form method="post" action="/logout" class="inline">
                                <button type="submit" class="link">"Log out"</button>
                            </form>
                        </nav>
                    })
                })}
            </Suspense>
        </header>
    }
}

/// A one-time notice the server left in the session (what a PeeringDB login
/// or a re-sync did), shown on whichever page comes next.
#[component]
pub fn Flash() -> impl IntoView {
    let me = expect_context::<MeResource>().0;
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                me.await.ok().flatten().and_then(|me| me.flash).map(|f| view! { <div class="alert ok" role="status" id="flash">{f}</div> })
            })}
        </Suspense>
    }
}
