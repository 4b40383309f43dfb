//! The operator console's pages (docs/console.md): one module per page, a shared frame with
//! the console's navigation, and [`Loaded`] for what every page does with its data.
//!
//! The server has already let only an operator with a recent login this far (anyone else
//! got the 404 page); on client-side navigation the server functions say the same.

pub mod account;
pub mod accounts;
pub mod events;
pub mod overview;
pub mod settings;

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::error::AppError;
use crate::journey::with_next;
use crate::routes::Page;

/// The console's frame: its navigation (the current page marked) and the page.
#[component]
pub fn Console(current: Page, children: Children) -> impl IntoView {
    let link = move |page: Page, name: &'static str| {
        let here = (page == current).then_some("page");
        view! { <a href=page.path() aria-current=here>{name}</a> }
    };
    view! {
        <div class="console">
            <nav class="console-nav" aria-label="Console">
                {link(Page::AdminOverview, "Overview")}
                {link(Page::AdminAccounts, "Accounts")}
                {link(Page::AdminSettings, "Settings")}
                {link(Page::AdminEvents, "Events")}
                <a href=Page::Dashboard.path() class="muted">"Leave the console"</a>
            </nav>
            {children()}
        </div>
    }
}

/// A table that scrolls sideways on a narrow screen rather than the page: its column
/// headings (an empty one is "Actions" for screen readers only), then its rows.
#[component]
pub fn DataTable(
    columns: &'static [&'static str],
    #[prop(optional)] class: &'static str,
    children: Children,
) -> impl IntoView {
    let headings = columns
        .iter()
        .map(|column| match *column {
            "" => view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> }
                .into_any(),
            name => view! { <th scope="col">{name}</th> }.into_any(),
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class=class>
                <thead><tr>{headings}</tr></thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}

/// Shows `view` with the data of `resource` once it is there; an error in words (a stale
/// login gets the way to sign in again, and back).
#[component]
pub fn Loaded<T, F, V>(resource: Resource<Result<T, AppError>>, view: F) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let location = use_location();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                resource
                    .get()
                    .map(|result| match result {
                        Ok(data) => view(data).into_any(),
                        Err(AppError::ReauthRequired) => {
                            let back = format!(
                                "{}{}",
                                location.pathname.get_untracked(),
                                location.search.get_untracked(),
                            );
                            let href = with_next(Page::Login.path(), Some(&back));
                            view! {
                                <p role="alert">
                                    "Your sign-in is too old for the console. "
                                    <a href=href>"Sign in again"</a>
                                </p>
                            }
                                .into_any()
                        }
                        Err(err) => view! { <p class="alert" role="alert">{err.to_string()}</p> }.into_any(),
                    })
            }}
        </Suspense>
    }
}
