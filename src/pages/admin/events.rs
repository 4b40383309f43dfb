//! `/admin/events`: the latest events, filtered by type, result, account and period (a GET
//! form, so a filtered list is a link), fifty at a time; each with its OCSF JSON.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::{Console, DataTable, Loaded};
use crate::console::model::{EventList, EventQuery, EventRow};
use crate::journey::percent_encode;
use crate::routes::Page;
use crate::server_fns::admin::admin_events;

#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        let q = query.read();
        let text = |key: &str| q.get(key).filter(|v| !v.is_empty());
        EventQuery {
            event_type: text("type"),
            result: text("result"),
            account: text("account"),
            days: text("days").and_then(|d| d.parse().ok()),
            before: text("before").and_then(|b| b.parse().ok()),
        }
    };
    let list = Resource::new(filters, |q| {
        admin_events(q.event_type, q.result, q.account, q.days, q.before)
    });
    view! {
        <Title text="Events" />
        <Console current=Page::AdminEvents>
            <h1>"Events"</h1>
            <Loaded resource=list view=move |list: EventList| view! { <Events list filters=filters() /> } />
        </Console>
    }
}

#[component]
fn Events(list: EventList, filters: EventQuery) -> impl IntoView {
    let selected = |wanted: Option<&str>, value: &str| wanted.unwrap_or_default() == value;
    let type_options = list
        .types
        .iter()
        .map(|t| {
            let chosen = selected(filters.event_type.as_deref(), t);
            view! { <option value=t.clone() selected=chosen>{t.clone()}</option> }
        })
        .collect_view();
    let result_options = [
        ("", "Any result"),
        ("success", "Success"),
        ("failure", "Failure"),
        ("info", "Info"),
    ]
    .map(|(value, name)| {
        let chosen = selected(filters.result.as_deref(), value);
        view! { <option value=value selected=chosen>{name}</option> }
    });
    let days = filters.days.map(|d| d.to_string());
    let period_options = [
        ("", "Any time"),
        ("1", "Last day"),
        ("7", "Last 7 days"),
        ("30", "Last 30 days"),
        ("90", "Last 90 days"),
    ]
    .map(|(value, name)| {
        let chosen = selected(days.as_deref(), value);
        view! { <option value=value selected=chosen>{name}</option> }
    });
    let older = list.older.map(|before| {
        let mut query = vec![format!("before={before}")];
        for (key, value) in [
            ("type", filters.event_type.clone()),
            ("result", filters.result.clone()),
            ("account", filters.account.clone()),
            ("days", days.clone()),
        ] {
            if let Some(value) = value {
                query.push(format!("{key}={}", percent_encode(&value)));
            }
        }
        let href = format!("{}?{}", Page::AdminEvents.path(), query.join("&"));
        view! { <p><a href=href>"Older events"</a></p> }
    });
    let empty = list.events.is_empty();
    view! {
        <Form method="GET" action="" attr:class="filters">
            <div class="field">
                <label for="filter-type">"Type"</label>
                <select id="filter-type" name="type">
                    <option value="">"Any type"</option>
                    {type_options}
                </select>
            </div>
            <div class="field">
                <label for="filter-result">"Result"</label>
                <select id="filter-result" name="result">{result_options}</select>
            </div>
            <div class="field">
                <label for="filter-account">"Account"</label>
                <input id="filter-account" name="account" type="search" placeholder="Email or account id"
                    prop:value=filters.account.clone().unwrap_or_default() />
            </div>
            <div class="field">
                <label for="filter-days">"Period"</label>
                <select id="filter-days" name="days">{period_options}</select>
            </div>
            <button type="submit" class="primary">"Filter"</button>
        </Form>
        {empty.then(|| view! { <p class="muted">"No events match."</p> })}
        <EventTable events=list.events full=true />
        {older}
    }
}

/// Events as a table, newest first, reasons in words, operators as "by <email>". On the
/// Events page (`full`) each row also names its account and carries its OCSF record; an
/// account's timeline leaves both out.
#[component]
pub fn EventTable(events: Vec<EventRow>, #[prop(optional)] full: bool) -> impl IntoView {
    let rows = events
        .into_iter()
        .map(|e| {
            let account = full.then(|| {
                let link = e.account.clone().map(|id| {
                    view! { <a href=Page::admin_account(&id)>{id.clone()}</a> }
                });
                view! { <td data-label="Account">{link}</td> }
            });
            let ocsf = full.then(|| {
                view! {
                    <details>
                        <summary>"OCSF JSON"</summary>
                        <pre class="json">{e.ocsf_json.clone()}</pre>
                    </details>
                }
            });
            view! {
                <tr>
                    <th scope="row" class="nowrap">{e.time}</th>
                    <td data-label="Event"><code>{e.event_type}</code></td>
                    <td data-label="Result">{e.outcome}</td>
                    <td data-label="Why">{e.reason_in_words}</td>
                    {account}
                    <td data-label="Details">{e.actor.map(|by| format!("by {by} "))} {e.detail} {ocsf}</td>
                </tr>
            }
        })
        .collect_view();
    let columns: &'static [&'static str] = if full {
        &["When", "Event", "Result", "Why", "Account", "Details"]
    } else {
        &["When", "Event", "Result", "Why", "Details"]
    };
    view! { <DataTable columns class="events cards">{rows}</DataTable> }
}
