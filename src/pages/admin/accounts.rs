//! `/admin/accounts`: find an account by the start of its email (a plain GET form).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::{Console, Loaded};
use crate::console::model::AccountLink;
use crate::routes::Page;
use crate::server_fns::admin::admin_search_accounts;

#[component]
pub fn AccountsPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let found = Resource::new(search, admin_search_accounts);
    view! {
        <Title text="Accounts" />
        <Console current=Page::AdminAccounts>
            <h1>"Accounts"</h1>
            <Form method="GET" action="" attr:class="search" attr:role="search">
                <label for="account-search">"Search accounts"</label>
                <input
                    id="account-search"
                    name="q"
                    type="search"
                    placeholder="Start of an email"
                    autocomplete="off"
                    prop:value=search
                />
                <button type="submit" class="primary">"Search"</button>
            </Form>
            <Loaded resource=found view={move |accounts: Vec<AccountLink>| {
                let heading = if search().is_empty() { "Recent sign-ins" } else { "Results" };
                let empty = accounts.is_empty();
                let items = accounts
                    .into_iter()
                    .map(|a| view! { <li><a href=Page::admin_account(&a.id)>{a.email}</a></li> })
                    .collect_view();
                view! {
                    <h2>{heading}</h2>
                    {empty.then(|| view! { <p class="muted">"No account matches."</p> })}
                    <ul class="accounts">{items}</ul>
                }
            }} />
        </Console>
    }
}
