use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{get_customer_access, Invite, RequireMfa, RevokeAccess, SetCustomerPeeringdb, WithdrawInvitation};
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
    // resource asks the server again.
    let me = expect_context::<MeResource>().0;
    let revoke = ServerAction::<RevokeAccess>::new();
    let require = ServerAction::<RequireMfa>::new();
    let invite = ServerAction::<Invite>::new();
    let withdraw = ServerAction::<WithdrawInvitation>::new();
    let peeringdb = ServerAction::<SetCustomerPeeringdb>::new();
    let actions = Actions { revoke, require, invite, withdraw, peeringdb };
    let access: Access = Resource::new(
        || (),
        move |_| async move {
            match me.await.ok().flatten().as_ref().and_then(administered) {
                Some(customer_id) => get_customer_access(customer_id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Title text="Dashboard"/>
        <SignedIn view=move |me| dashboard_for(me, access, actions)/>
    }
}

/// What a customer's admin can do on the dashboard.
#[derive(Clone, Copy)]
struct Actions {
    revoke: ServerAction<RevokeAccess>,
    require: ServerAction<RequireMfa>,
    invite: ServerAction<Invite>,
    withdraw: ServerAction<WithdrawInvitation>,
    peeringdb: ServerAction<SetCustomerPeeringdb>,
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
        {administered(&me).map(|customer_id| who_has_access(customer_id, me.user_id, access, actions))}
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
/// why; manual grants can be revoked here (PeeringDB ones follow
/// PeeringDB), people invited, and the customer's PeeringDB settings set.
fn who_has_access(customer_id: i64, my_id: i64, access: Access, actions: Actions) -> impl IntoView {
    let Actions { revoke, require, invite, withdraw, peeringdb } = actions;
    view! {
        <section class="card" aria-labelledby="access-title">
            <h2 id="access-title">"Who has access"</h2>
            {move || outcome(revoke, "Access revoked.")}
            {move || outcome(require, "Saved.")}
            {move || outcome(invite, "Invitation sent.")}
            {move || outcome(withdraw, "Invitation withdrawn.")}
            {move || outcome(peeringdb, "Saved.")}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match access.await {
                        Err(e) => load_error(e),
                        Ok(None) => ().into_any(),
                        Ok(Some(list)) => access_card(customer_id, my_id, list, actions).into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn access_card(customer_id: i64, my_id: i64, list: CustomerAccess, actions: Actions) -> impl IntoView {
    let Actions { revoke, require, invite, withdraw, peeringdb } = actions;
    let id = customer_id.to_string();
    let rows = list.entries.into_iter().map(|e| {
        let revocable = e.source == Source::Manual && e.user_id != my_id;
        let id = id.clone();
        view! {
            <tr>
                <td>{e.name}<br/><span class="muted">{e.username}</span></td>
                <td>{e.email}</td>
                <td><span class=format!("badge role-{}", e.role.as_str())>{e.role.as_str()}</span></td>
                <td>{e.source.label()}<br/><span class="muted">{e.why}</span></td>
                <td>{e.since}</td>
                <td>{revocable.then(|| view! {
                    <ActionForm action=revoke>
                        <input type="hidden" name="customer_id" value=id/>
                        <input type="hidden" name="user_id" value=e.user_id.to_string()/>
                        <button type="submit" class="link">"Remove"</button>
                    </ActionForm>
                })}</td>
            </tr>
        }
    }).collect_view();
    let invitations = list.invitations;
    let pending = (!invitations.is_empty()).then(move || {
        let items = invitations.into_iter().map(|i| {
            let by = i.invited_by.map(|n| format!(", by {n}")).unwrap_or_default();
            view! {
                <li>
                    {format!("{} as {}{by}, until {} ", i.email, i.role, i.expires)}
                    <ActionForm action=withdraw attr:class="inline">
                        <input type="hidden" name="customer_id" value=customer_id.to_string()/>
                        <input type="hidden" name="invitation_id" value=i.id.to_string()/>
                        <button type="submit" class="link">"Withdraw"</button>
                    </ActionForm>
                </li>
            }
        }).collect_view();
        view! { <h3>"Invitations not yet accepted"</h3><ul id="open-invitations">{items}</ul> }
    });
    let inviting = if list.mail {
        view! {
            <h3>"Invite a person"</h3>
            <ActionForm action=invite attr:class="stack" attr:id="invite">
                <input type="hidden" name="customer_id" value=customer_id.to_string()/>
                <label for="invite-email">"Email address"</label>
                <input id="invite-email" name="email" type="email" required=true/>
                <label for="invite-role">"Role"</label>
                <select id="invite-role" name="role">
                    <option value="member" selected=true>"member"</option>
                    <option value="admin">"admin"</option>
                </select>
                <small class="muted">"The person gets a mail with a link that works once, for 7 days. They accept by logging in with PeeringDB or by setting a password."</small>
                <button type="submit" class="button">"Send the invitation"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! { <p class="muted">"This exchange sends no mail, so invitations cannot go out: ask the exchange to add people."</p> }.into_any()
    };
    let cap = list.peeringdb_max_role.map(Role::as_str).unwrap_or("");
    let option = move |value: &'static str, label: &'static str| view! { <option value=value selected=value == cap>{label}</option> };
    let locked = list.peeringdb_locked;
    view! {
        <div class="table-wrap">
            <table id="who-has-access">
                <thead><tr><th scope="col">"Person"</th><th scope="col">"Email"</th><th scope="col">"Role"</th>
                    <th scope="col">"Why"</th><th scope="col">"Since"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {pending}
        {inviting}
        <h3>"Login with PeeringDB"</h3>
        <p class="muted">"Access via PeeringDB follows the person's PeeringDB networks at each login and each daily check."</p>
        {locked.then(|| view! { <p class="muted" id="peeringdb-locked">"The exchange keeps these settings for itself: ask its support team to change them."</p> })}
        <ActionForm action=peeringdb attr:class="stack" attr:id="customer-peeringdb">
            <input type="hidden" name="customer_id" value=customer_id.to_string()/>
            <fieldset disabled=locked>
                <label class="check"><input type="checkbox" name="peeringdb_login" value="on" checked=list.peeringdb_login/>" Give access to people PeeringDB lists in our networks"</label>
                <label for="own-max-role">"Highest role through PeeringDB"</label>
                <select id="own-max-role" name="max_role">{option("", "as PeeringDB says")}{option("member", "member")}{option("admin", "admin")}</select>
                <button type="submit" class="button">"Save"</button>
            </fieldset>
        </ActionForm>
        <ActionForm action=require attr:class="stack" attr:id="require-mfa">
            <input type="hidden" name="customer_id" value=customer_id.to_string()/>
            <label class="check"><input type="checkbox" name="require" value="on" checked=list.require_mfa aria-describedby="require-mfa-help"/>
                " Require a second factor at PeeringDB"</label>
            <small id="require-mfa-help" class="muted">"Only PeeringDB logins made with an authenticator app or a security key then give access here. \
                Whoever's last PeeringDB login had none loses their PeeringDB access at once; manual grants stay."</small>
            <button type="submit" class="button">"Save"</button>
        </ActionForm>
    }
}
