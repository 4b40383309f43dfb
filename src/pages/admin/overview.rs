//! `/admin`: adoption at a glance for 7, 30 or 90 days: logins per day by method, the append
//! funnel, passkey logins and their fallbacks, accounts with a passkey, passkey providers.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{Console, DataTable, Loaded};
use crate::console::model::{DailyRow, OverviewPage as Figures};
use crate::routes::{Endpoint, Page};
use crate::server_fns::admin::admin_overview;

/// The periods offered, the default first.
const PERIODS: [u32; 3] = [7, 30, 90];
const DEFAULT_DAYS: u32 = 30;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let query = use_query_map();
    let days = move || {
        query
            .read()
            .get("days")
            .and_then(|d| d.parse::<u32>().ok())
            .filter(|d| PERIODS.contains(d))
            .unwrap_or(DEFAULT_DAYS)
    };
    let figures = Resource::new(days, admin_overview);
    view! {
        <Title text="Overview" />
        <Console current=Page::AdminOverview>
            <h1>"Overview"</h1>
            <Loaded resource=figures view=|figures: Figures| view! { <Figures figures /> } />
        </Console>
    }
}

#[component]
fn Figures(figures: Figures) -> impl IntoView {
    let days = figures.period_days;
    let csv = format!("{}?days={days}", Endpoint::OverviewCsv.path());
    let o = figures.overview;
    let periods = PERIODS.map(|period| {
        let here = (period == days).then_some("page");
        let href = format!("{}?days={period}", Page::AdminOverview.path());
        view! { <a href=href aria-current=here>{format!("{period} days")}</a> }
    });
    let share = match o.active_with_passkey {
        Some(with) if o.active_accounts > 0 => format!(
            "{with} of {} active accounts ({}%)",
            o.active_accounts,
            with * 100 / o.active_accounts
        ),
        Some(_) => "No account signed in during this period.".to_string(),
        None => "Unknown: the passkey service keeps its own database.".to_string(),
    };
    let reasons = |rows: Vec<(String, i64)>| {
        if rows.is_empty() {
            return view! { <p class="hint">"None in this period."</p> }.into_any();
        }
        let items = rows
            .into_iter()
            .map(|(words, n)| view! { <li>{words} ": " <strong>{n}</strong></li> })
            .collect_view();
        view! { <ul class="reasons">{items}</ul> }.into_any()
    };
    let no_providers = o.providers.is_empty();
    let providers_table = o
        .providers
        .iter()
        .map(|(name, n)| view! { <tr><th scope="row">{name.clone()}</th><td>{*n}</td></tr> })
        .collect_view();
    view! {
        <nav class="periods" aria-label="Period">{periods}</nav>
        <p><a href=csv rel="external" download="">"Download CSV"</a></p>
        <section class="panel">
            <h2>"Logins per day"</h2>
            <figure class="chart-box" inner_html=figures.logins_chart></figure>
            <details>
                <summary>"Show data"</summary>
                <DailyTable days=o.days.clone() />
            </details>
        </section>
        <div class="panels">
            <section class="panel">
                <h2>"Append funnel"</h2>
                <p class="funnel">
                    "Offered " <strong>{o.append_offered}</strong> " → created "
                    <strong>{o.append_created}</strong>
                </p>
                <h3>"Skipped, by reason"</h3>
                {reasons(figures.skipped_in_words)}
            </section>
            <section class="panel">
                <h2>"Passkey logins"</h2>
                <p class="funnel">
                    "Attempts " <strong>{o.passkey_started}</strong> " → success "
                    <strong>{o.passkey_completed}</strong> ", failed "
                    <strong>{o.passkey_failed}</strong>
                </p>
                <h3>"Fell back to the password, by reason"</h3>
                {reasons(figures.fell_back_in_words)}
            </section>
            <section class="panel">
                <h2>"Accounts with a passkey"</h2>
                <p class="funnel">{share}</p>
            </section>
        </div>
        <section class="panel">
            <h2>"Passkey providers"</h2>
            {no_providers.then(|| view! { <p class="hint">"No passkeys yet."</p> })}
            <figure class="chart-box" hidden=no_providers inner_html=figures.providers_chart></figure>
            <details>
                <summary>"Show data"</summary>
                <DataTable columns={&["Provider", "Passkeys"]}>{providers_table}</DataTable>
            </details>
        </section>
    }
}

#[component]
fn DailyTable(days: Vec<DailyRow>) -> impl IntoView {
    let rows = days
        .into_iter()
        .map(|d| {
            view! {
                <tr>
                    <th scope="row">{d.date}</th>
                    <td>{d.passkey_logins}</td>
                    <td>{d.password_logins}</td>
                    <td>{d.oidc_logins}</td>
                    <td>{d.passkeys_created}</td>
                    <td>{d.append_skipped}</td>
                    <td>{d.passkey_fallbacks}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns={&["Date", "Passkey logins", "Password logins", "OIDC logins", "Passkeys created", "Append skipped", "Passkey fallbacks"]}>{rows}</DataTable>
    }
}
