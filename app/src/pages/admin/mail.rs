//! `/admin/mail`: is mail set up, what waits to go out and why, what went.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::console::{mail_status, RetryMail};
use crate::components::console::{load_error, outcome, AdminPage};
use crate::console::{MailItem, MailStatus};
use crate::AppError;

#[component]
pub fn MailPage() -> impl IntoView {
    // Made here, outside `AdminPage`: see the note in `customers.rs`.
    let retry = ServerAction::<RetryMail>::new();
    let status = Resource::new(|| (), |_| mail_status());
    view! {
        <Title text="Mail"/>
        <AdminPage tab="/admin/mail" view=move |_| mail_view(status, retry)/>
    }
}

fn mail_view(status: Resource<Result<MailStatus, AppError>>, retry: ServerAction<RetryMail>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="mail-title">
            <h1 id="mail-title">"Mail"</h1>
            {move || outcome(retry, "The queued mails are being tried now.")}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Err(e) => load_error(e),
                        Ok(s) if !s.on => view! {
                            <p id="mail-off">"Mail is off: set PEERPORTAL_SMTP_URL and PEERPORTAL_MAIL_FROM to send welcome, access, password reset and invitation mails. \
                                Without them nobody can reset a password or be invited, and nobody hears of changes to their access but at their next login."</p>
                        }
                        .into_any(),
                        Ok(s) => view! { <MailCard s retry/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn MailCard(s: MailStatus, retry: ServerAction<RetryMail>) -> impl IntoView {
    let waiting = s.queued.len();
    view! {
        <dl class="facts">
            <dt>"Server"</dt><dd id="mail-server">{s.server}</dd>
            <dt>"From"</dt><dd>{s.from}</dd>
            <dt>"Waiting"</dt><dd id="mail-waiting">{waiting.to_string()}</dd>
        </dl>
        <p class="muted">"Every mail is written with the change that causes it and kept until the mail server takes it: \
            a mail server that is down delays mail, it loses none. A failed try is repeated after 30 seconds, then twice as long each time, up to an hour."</p>
        <h2>"Waiting to go out"</h2>
        {if s.queued.is_empty() {
            view! { <p>"Nothing waits."</p> }.into_any()
        } else {
            view! {
                <ActionForm action=retry attr:id="mail-retry">
                    <button type="submit" class="button">"Try every waiting mail now"</button>
                </ActionForm>
                <MailTable items=s.queued when="Next try" id="mail-queue"/>
            }
            .into_any()
        }}
        <h2>"Sent lately"</h2>
        <MailTable items=s.sent when="Sent" id="mail-sent"/>
    }
}

#[component]
fn MailTable(items: Vec<MailItem>, when: &'static str, id: &'static str) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|m| {
            view! {
                <tr>
                    <td>{m.kind}</td>
                    <td>{m.to}</td>
                    <td>{m.subject}</td>
                    <td>{m.created}</td>
                    <td>{m.attempts.to_string()}</td>
                    <td>{m.when}</td>
                    <td>{m.last_error.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table id=id>
                <thead><tr><th scope="col">"Mail"</th><th scope="col">"To"</th><th scope="col">"Subject"</th><th scope="col">"Written"</th>
                    <th scope="col">"Tries"</th><th scope="col">{when}</th><th scope="col">"Last error"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
