//! `/admin/users…`: list and search, one user's access and history, new
//! local accounts.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::console::{
    admin_user, admin_users, CreateUser, DeleteUser, GrantAccess, ResetTwoFactor, ResyncUser, RevokeGrant, SetUserDisabled, UnlinkPeeringdb,
};
use crate::components::console::{list_base, load_error, outcome, page_param, param, AdminPage, Pager, SearchForm};
use crate::components::audit::AuditTable;
use crate::console::{LinkStatus, Page, UserDetail, UserItem};
use crate::{AppError, CustomerStatus, Source};

#[component]
pub fn UsersPage() -> impl IntoView {
    // Made here, outside `AdminPage`: see the note in `customers.rs`.
    let query = use_query_map();
    let list = Resource::new(move || (param(&query.read(), "q"), page_param(&query.read())), |(q, page)| admin_users(q, page));
    view! {
        <Title text="Users"/>
        <AdminPage tab="/admin/users" view=move |_| user_list(list)/>
    }
}

fn user_list(list: Resource<Result<Page<UserItem>, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let q = move || param(&query.read(), "q");
    view! {
        <section class="card" aria-labelledby="users-title">
            <div class="heading-row">
                <h1 id="users-title">"Users"</h1>
                <span class="actions"><a class="button primary" href="/admin/users/new">"New local user"</a></span>
            </div>
            <SearchForm action="/admin/users" label="Search by username, name or email" value=Signal::derive(q)/>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => load_error(e),
                        Ok(page) => {
                            let base = list_base("/admin/users", &q());
                            let pages = page.pages();
                            let rows = page.items.into_iter().map(|u| view! {
                                <tr>
                                    <td><a href=format!("/admin/users/{}", u.id)>{u.username}</a></td>
                                    <td>{u.name}</td>
                                    <td>{u.email}</td>
                                    <td>
                                        {u.is_superadmin.then(|| view! { <span class="badge role-superadmin">"superadmin"</span>" " })}
                                        {u.disabled.then(|| view! { <span class="badge disabled">"disabled"</span>" " })}
                                        {u.peeringdb_id.map(|_| view! { <span class="badge">"PeeringDB"</span> })}
                                    </td>
                                    <td class="num">{u.customers}</td>
                                    <td>{u.last_login.unwrap_or_else(|| "never".into())}</td>
                                </tr>
                            }).collect_view();
                            view! {
                                <div class="table-wrap">
                                    <table>
                                        <thead><tr><th scope="col">"Username"</th><th scope="col">"Name"</th><th scope="col">"Email"</th>
                                            <th scope="col">"Flags"</th><th scope="col">"Customers"</th><th scope="col">"Last login"</th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </div>
                                <Pager base page=page.page pages total=page.total/>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `/admin/users/new`
#[component]
pub fn NewUserPage() -> impl IntoView {
    view! {
        <Title text="New user"/>
        <AdminPage tab="/admin/users" view=|_| view! { <NewUser/> }/>
    }
}

#[component]
fn NewUser() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    view! {
        <section class="card" aria-labelledby="new-user-title">
            <h1 id="new-user-title">"New local user"</h1>
            <p class="muted">"For people who cannot use PeeringDB. Give them access to customers on the next page."</p>
            {move || outcome(create, "Created.")}
            <ActionForm action=create attr:class="stack" attr:id="new-user-form">
                <label for="username">"Username"</label>
                <input id="username" name="username" type="text" required=true autocomplete="off"/>
                <label for="name">"Full name"</label>
                <input id="name" name="name" type="text"/>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" required=true/>
                <label for="password">"Initial password (at least 10 characters)"</label>
                <input id="password" name="password" type="password" required=true minlength="10" autocomplete="new-password"/>
                <label class="check"><input type="checkbox" name="superadmin" value="on"/>" Superadmin (full access to this console)"</label>
                <button type="submit" class="button primary">"Create user"</button>
            </ActionForm>
        </section>
    }
}

/// `/admin/users/:id`
/// The actions of a user's page.
#[derive(Clone, Copy)]
struct UserActions {
    grant: ServerAction<GrantAccess>,
    revoke: ServerAction<RevokeGrant>,
    disable: ServerAction<SetUserDisabled>,
    unlink: ServerAction<UnlinkPeeringdb>,
    resync: ServerAction<ResyncUser>,
    reset_2fa: ServerAction<ResetTwoFactor>,
}

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let actions = UserActions {
        grant: ServerAction::new(),
        revoke: ServerAction::new(),
        disable: ServerAction::new(),
        unlink: ServerAction::new(),
        resync: ServerAction::new(),
        reset_2fa: ServerAction::new(),
    };
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let detail = Resource::new(id, admin_user);
    view! {
        <Title text="User"/>
        <AdminPage tab="/admin/users" view=move |me| user_view(me.user_id, detail, actions)/>
    }
}

fn user_view(my_id: i64, detail: Resource<Result<UserDetail, AppError>>, actions: UserActions) -> impl IntoView {
    let UserActions { grant, revoke, disable, unlink, resync, reset_2fa } = actions;
    view! {
        // What it did comes as the page's one-time notice; a refusal here.
        {move || resync.value().get().and_then(Result::err).map(load_error)}
        {move || outcome(grant, "Access granted.")}
        {move || outcome(revoke, "Access revoked.")}
        {move || outcome(disable, "Saved.")}
        {move || outcome(unlink, "PeeringDB identity unlinked.")}
        {move || outcome(reset_2fa, "Two-factor authentication removed; their sessions ended.")}
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => load_error(e),
                    Ok(d) => view! { <UserCards d my_id actions/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserCards(d: UserDetail, my_id: i64, actions: UserActions) -> impl IntoView {
    let UserActions { grant, revoke, disable, unlink, resync, reset_2fa } = actions;
    let link = d.peeringdb_link.map(|l| link_line(&l));
    let u = d.user;
    let uid = u.id;
    let rows = d
        .affiliations
        .into_iter()
        .map(|a| {
            let manual = a.source == Source::Manual;
            view! {
                <tr>
                    <td><a href=format!("/admin/customers/{}", a.customer_id)>{a.customer}</a>
                        {(a.customer_status != CustomerStatus::Active).then(|| view! {
                            " " <span class=format!("badge status-{}", a.customer_status.as_str()) title="No access while the customer is not active">{a.customer_status.as_str()}</span>
                        })}</td>
                    <td><span class=format!("badge role-{}", a.role.as_str())>{a.role.as_str()}</span></td>
                    <td><span class=format!("badge source-{}", a.source.as_str())>{a.source.label()}</span></td>
                    <td>{a.created_at}</td>
                    <td>{a.updated_at}</td>
                    <td>{manual.then(|| view! {
                        <ActionForm action=revoke>
                            <input type="hidden" name="user_id" value=uid.to_string()/>
                            <input type="hidden" name="customer_id" value=a.customer_id.to_string()/>
                            <button type="submit" class="link">"Revoke"</button>
                        </ActionForm>
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    let has_rows = !d.recent.is_empty();
    view! {
        <section class="card" aria-labelledby="user-title">
            <h1 id="user-title">{format!("{} ({})", u.name, u.username)}</h1>
            <dl class="facts">
                <dt>"Email"</dt><dd>{u.email.clone()}</dd>
                <dt>"Created"</dt><dd>{format!("{} via {}", d.created_at, u.created_via)}</dd>
                <dt>"Last login"</dt><dd>{u.last_login.clone().unwrap_or_else(|| "never".into())}</dd>
                <dt>"Password"</dt><dd>{if d.has_password { "set" } else { "none (PeeringDB only)" }}</dd>
                <dt>"Two-factor"</dt><dd>{if d.two_factor { "on" } else if d.has_password { "off" } else { "PeeringDB's" }}</dd>
                <dt>"PeeringDB"</dt><dd>{match u.peeringdb_id { Some(id) => format!("linked (user id {id})"), None => "not linked".into() }}
                    {(!d.peeringdb_login_allowed).then_some(" · the user switched PeeringDB login off")}</dd>
                {link.map(|line| view! { <dt>"Re-sync"</dt><dd id="peeringdb-link">{line}</dd> })}
                <dt>"State"</dt><dd>{if u.disabled { "disabled" } else { "active" }}{u.is_superadmin.then_some(" · superadmin")}</dd>
            </dl>
            <div class="actions">
                {(u.id != my_id).then(|| view! {
                    <ActionForm action=disable attr:class="inline">
                        <input type="hidden" name="user_id" value=uid.to_string()/>
                        <input type="hidden" name="disabled" value=(!u.disabled).to_string()/>
                        <button type="submit" class="button">{if u.disabled { "Enable account" } else { "Disable account (ends their sessions)" }}</button>
                    </ActionForm>
                })}
                {u.peeringdb_id.map(|_| view! {
                    <ActionForm action=resync attr:class="inline">
                        <input type="hidden" name="user_id" value=uid.to_string()/>
                        <button type="submit" class="button">"Re-sync now"</button>
                    </ActionForm>
                })}
                {u.peeringdb_id.map(|_| view! {
                    <ActionForm action=unlink attr:class="inline">
                        <input type="hidden" name="user_id" value=uid.to_string()/>
                        <button type="submit" class="button">"Unlink PeeringDB (removes PeeringDB access)"</button>
                    </ActionForm>
                })}
            </div>
        </section>
        <section class="card" aria-labelledby="access-title">
            <h2 id="access-title">"Access"</h2>
            <div class="table-wrap">
                <table id="affiliations">
                    <thead><tr><th scope="col">"Customer"</th><th scope="col">"Role"</th><th scope="col">"Source"</th>
                        <th scope="col">"Since"</th><th scope="col">"Updated"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <h3>"Grant access by hand"</h3>
            <ActionForm action=grant attr:class="grant-form" attr:id="grant-form">
                <input type="hidden" name="user_id" value=uid.to_string()/>
                <span>
                    <label for="grant-customer">"Customer shortname"</label>
                    <input id="grant-customer" name="customer" type="text" required=true/>
                </span>
                <span>
                    <label for="grant-role">"Role"</label>
                    <select id="grant-role" name="role"><option value="member">"member"</option><option value="admin">"admin"</option></select>
                </span>
                <button type="submit" class="button primary">"Grant"</button>
            </ActionForm>
            <p class="muted">"A manual grant is never changed by PeeringDB logins. PeeringDB grants come and go with PeeringDB; to stop them, switch PeeringDB login off for the customer."</p>
        </section>
        <section class="card" aria-labelledby="recent-title">
            <h2 id="recent-title">"Recent activity"</h2>
            {if has_rows { view! { <AuditTable items=d.recent/> }.into_any() } else { view! { <p>"Nothing yet."</p> }.into_any() }}
            <p><a href=format!("/admin/audit?user={}", crate::encode_query_component(&u.username))>"Full audit log of this user"</a></p>
        </section>
        {(d.two_factor && uid != my_id).then(|| view! {
            <section class="card" aria-labelledby="reset-2fa-title">
                <h2 id="reset-2fa-title">"Two-factor authentication"</h2>
                <p>"For someone who lost their phone and their recovery codes: removes their second factor and ends their sessions. \
                    They set it up again at their next login."</p>
                <ActionForm action=reset_2fa attr:class="stack">
                    <input type="hidden" name="user_id" value=uid.to_string()/>
                    <label class="check"><input type="checkbox" name="confirm" value="on" required=true/>" Yes, I checked who is asking"</label>
                    <button type="submit" class="button danger">"Reset two-factor"</button>
                </ActionForm>
            </section>
        })}
        {(uid != my_id).then(|| view! { <DeleteUserCard id=uid linked=u.peeringdb_id.is_some()/> })}
    }
}

#[component]
fn DeleteUserCard(id: i64, linked: bool) -> impl IntoView {
    let delete = ServerAction::<DeleteUser>::new();
    let token = if linked { " Their PeeringDB refresh token is revoked at PeeringDB." } else { "" };
    view! {
        <section class="card danger" aria-labelledby="delete-user-title">
            <h2 id="delete-user-title">"Delete this user"</h2>
            <p>{format!("Deleting removes every grant (manual and PeeringDB) and ends every session.{token} It cannot be undone; disabling keeps the account. The audit log keeps its history.")}</p>
            {move || outcome(delete, "Deleted.")}
            <ActionForm action=delete attr:class="stack">
                <input type="hidden" name="user_id" value=id.to_string()/>
                <label class="check"><input type="checkbox" name="confirm" value="on" required=true/>" Yes, delete this user"</label>
                <button type="submit" class="button danger">"Delete user"</button>
            </ActionForm>
        </section>
    }
}

/// The state of a PeeringDB link in one line.
fn link_line(l: &LinkStatus) -> String {
    let synced = l.last_synced.as_deref().map_or("never synced".to_string(), |t| format!("last synced {t}"));
    match (&l.stale_since, &l.last_error, l.has_token) {
        (Some(since), error, _) => format!("stale since {since} ({}): PeeringDB access goes after the grace period unless they log in with PeeringDB", error.as_deref().unwrap_or("no token")),
        (None, _, false) => "no refresh token kept: the next PeeringDB login brings one".to_string(),
        (None, Some(error), true) => format!("{synced}; the last attempt failed: {error}"),
        (None, None, true) => synced,
    }
}
