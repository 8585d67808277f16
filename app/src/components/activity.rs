//! The console's login activity: two charts drawn on the server (SVG,
//! shown with JavaScript off, no chart code in the bundle), each beside a
//! table of its numbers.

use leptos::prelude::*;

use crate::components::console::load_error;
use crate::console::LoginActivity;
use crate::AppError;

/// The renderer's markup without anything before `<svg`.
fn svg_only(markup: &str) -> String {
    markup.find("<svg").map_or(String::new(), |at| markup[at..].to_string())
}

pub fn activity_view(activity: Resource<Result<LoginActivity, AppError>>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="activity-title">
            <h2 id="activity-title">"Logins, last 30 days"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match activity.await {
                        Err(e) => load_error(e),
                        Ok(a) => charts(a).into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn charts(a: LoginActivity) -> impl IntoView {
    let total = |f: fn(&crate::console::DayLogins) -> u64| a.days.iter().map(f).sum::<u64>();
    let summary = format!(
        "{} with PeeringDB, {} with a password, {} refused.",
        total(|d| d.peeringdb),
        total(|d| d.password),
        total(|d| d.refused)
    );
    let day_rows = a
        .days
        .iter()
        .rev()
        .map(|d| {
            view! {
                <tr><th scope="row">{d.date.clone()}</th><td>{d.peeringdb}</td><td>{d.password}</td><td>{d.refused}</td></tr>
            }
        })
        .collect_view();
    let reason_rows = a
        .refusals
        .iter()
        .map(|(reason, n)| view! { <tr><th scope="row">{reason.clone()}</th><td>{*n}</td></tr> })
        .collect_view();
    view! {
        <p id="activity-summary">{summary}</p>
        <div class="chart-with-table" id="logins-chart">
            <figure>
                <figcaption>"Logins per day, by method"</figcaption>
                <div class="chart" inner_html=svg_only(&a.logins_svg)></div>
            </figure>
            <div class="table-wrap scroll">
                <table>
                    <caption class="sr-only">"Logins per day, newest first"</caption>
                    <thead><tr><th scope="col">"Day"</th><th scope="col">"PeeringDB"</th><th scope="col">"Password"</th><th scope="col">"Refused"</th></tr></thead>
                    <tbody>{day_rows}</tbody>
                </table>
            </div>
        </div>
        <div class="chart-with-table" id="refusals-chart">
            <figure>
                <figcaption>"Refused logins, by reason"</figcaption>
                <div class="chart" inner_html=svg_only(&a.refusals_svg)></div>
            </figure>
            <div class="table-wrap">
                <table>
                    <caption class="sr-only">"Refused logins by reason"</caption>
                    <thead><tr><th scope="col">"Reason"</th><th scope="col">"Refused"</th></tr></thead>
                    <tbody>{reason_rows}</tbody>
                </table>
            </div>
        </div>
        <p><a href="/admin/audit?event=login.">"Every login in the audit log"</a></p>
    }
}
