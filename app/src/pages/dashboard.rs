use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{get_customer_access, RequireMfa, RevokeAccess};
use crate::api::auth::{ChooseCustomer, Login};
use crate::components::console::{load_error, outcome};
use crate::components::signed_in::SignedIn;
use crate::console::CustomerAccess;
use crate::{format_asns, AppError, Me, MeResource, Role, Source};

/// The customer whose access list the person may see: the chosen one, when
/// they administer it (or are a superadmin).
fn administered(me: &Me) -> Option<i64> {
    me.current().filter(|c| c.role == Role::Admin || me.is_superadmin).map(|c| c.customer_id)
}

type Access = Resource<Result<Option<CustomerAccess>, AppError>>;

/// `/`: who you are and the customers you can act for.
#[component]
pub fn Dashboard() -> impl IntoView {
    // Made here, outside `SignedIn`: what is made inside a `Suspense` is made
    // again every time Leptos walks the page on the server, and each new
    // resource asks the server again. The list follows the person's choice
    // of customer (the same versions key `MeResource`) and their revocations.
    let me = expect_context::<MeResource>().0;
    let login = expect_context::<ServerAction<Login>>();
    let choose = expect_context::<ServerAction<ChooseCustomer>>();
    let revoke = ServerAction::<RevokeAccess>::new();
    let require = ServerAction::<RequireMfa>::new();
    let access: Access = Resource::new(
        move || (login.version().get(), choose.version().get(), revoke.version().get(), require.version().get()),
        move |_| async move {
            match me.await.ok().flatten().as_ref().and_then(administered) {
                Some(customer_id) => get_customer_access(customer_id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Title text="Dashboard"/>
        <SignedIn view=move |me| dashboard_for(me, access, Actions { revoke, require })/>
    }
}

/// What a customer's admin can do on the dashboard.
#[derive(Clone, Copy)]
struct Actions {
    revoke: ServerAction<RevokeAccess>,
    require: ServerAction<RequireMfa>,
}

fn dashboard_for(me: Me, access: Access, actions: Actions) -> impl IntoView {
    let rows = me
        .memberships
        .iter()
        .map(|m| {
            view! {
                <tr>
                    <td>{m.name.clone()}</td>
                    <td>{format_asns(&m.asns)}</td>
                    <td><span class=format!("badge role-{}", m.role.as_str())>{m.role.as_str()}</span></td>
                    <td>{m.source.label()}</td>
                </tr>
            }
        })
        .collect_view();
    let has_customers = !me.memberships.is_empty();
    let current = me.current().cloned();
    view! {
        {me.flash.clone().map(|f| view! { <div class="alert ok" role="status">{f}</div> })}
        {administered(&me).map(|customer_id| who_has_access(customer_id, me.user_id, access, actions))}
        {current.map(|c| view! {
            <section class="card" aria-labelledby="current">
                <h2 id="current">{c.name.clone()}</h2>
                <dl class="facts">
                    <dt>"ASNs"</dt><dd>{format_asns(&c.asns)}</dd>
                    <dt>"Your role"</dt><dd><span class=format!("badge role-{}", c.role.as_str())>{c.role.as_str()}</span></dd>
                    <dt>"Access via"</dt><dd>{c.source.label()}</dd>
                </dl>
            </section>
        })}
        <section class="card" aria-labelledby="who">
            <h1 id="who">{format!("Welcome, {}", me.name)}</h1>
            <dl class="facts">
                <dt>"Username"</dt><dd>{me.username.clone()}</dd>
                <dt>"Email"</dt><dd>{me.email.clone()}</dd>
                {me.is_superadmin.then(|| view! { <dt>"Role"</dt><dd><span class="badge role-superadmin">"superadmin"</span></dd> })}
            </dl>
        </section>
        <section class="card" aria-labelledby="customers">
            <h2 id="customers">"Your customers"</h2>
            {if has_customers {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th scope="col">"Customer"</th><th scope="col">"ASNs"</th><th scope="col">"Role"</th><th scope="col">"Access via"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }.into_any()
            } else {
                view! { <p>"You do not have access to any customer yet."</p> }.into_any()
            }}
        </section>
    }
}

/// For a customer's admins: everyone who can act for the customer, and
/// why; manual grants can be revoked here (PeeringDB ones follow PeeringDB).
fn who_has_access(customer_id: i64, my_id: i64, access: Access, actions: Actions) -> impl IntoView {
    let Actions { revoke, require } = actions;
    view! {
        <section class="card" aria-labelledby="access-title">
            <h2 id="access-title">"Who has access"</h2>
            {move || outcome(revoke.value().get(), "Access revoked.")}
            {move || outcome(require.value().get(), "Saved.")}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match access.await {
                        Err(e) => load_error(e),
                        Ok(None) => ().into_any(),
                        Ok(Some(list)) => {
                            let rows = list.entries.into_iter().map(|e| {
                                let revocable = e.source == Source::Manual && e.user_id != my_id;
                                view! {
                                    <tr>
                                        <td>{e.name}<br/><span class="muted">{e.username}</span></td>
                                        <td>{e.email}</td>
                                        <td><span class=format!("badge role-{}", e.role.as_str())>{e.role.as_str()}</span></td>
                                        <td>{e.source.label()}</td>
                                        <td>{e.since}</td>
                                        <td>{revocable.then(|| view! {
                                            <ActionForm action=revoke>
                                                <input type="hidden" name="customer_id" value=customer_id.to_string()/>
                                                <input type="hidden" name="user_id" value=e.user_id.to_string()/>
                                                <button type="submit" class="link">"Revoke"</button>
                                            </ActionForm>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view();
                            view! {
                                <div class="table-wrap">
                                    <table id="who-has-access">
                                        <thead><tr><th scope="col">"Person"</th><th scope="col">"Email"</th><th scope="col">"Role"</th>
                                            <th scope="col">"Via"</th><th scope="col">"Since"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </div>
                                <p class="muted">"Access via PeeringDB follows the person's PeeringDB networks at each login. Ask the exchange to switch PeeringDB login off for your company if you want to grant access by hand only."</p>
                                <ActionForm action=require attr:class="stack" attr:id="require-mfa">
                                    <input type="hidden" name="customer_id" value=customer_id.to_string()/>
                                    <label class="check"><input type="checkbox" name="require" value="on" checked=list.require_mfa aria-describedby="require-mfa-help"/>
                                        " Require a second factor at PeeringDB"</label>
                                    <small id="require-mfa-help" class="muted">"Only PeeringDB logins made with an authenticator app or a security key then give access here. \
                                        Whoever's last PeeringDB login had none loses their PeeringDB access at once; manual grants stay."</small>
                                    <button type="submit" class="button">"Save"</button>
                                </ActionForm>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
