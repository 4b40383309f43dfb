//! The HTML shell, the routes, and the client half of the journey guard.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{path, NavigateOptions, SsrMode};

use crate::account::{fetch_session, state_of, SessionInfo};
use crate::journey::{decide, Decision};
use crate::pages::{
    append::AppendPage, dashboard::DashboardPage, login::LoginPage, not_found::NotFoundPage,
    passkeys::PasskeysPage, signup::SignupPage,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/latchkey.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Latchkey".to_string() } else { format!("{page} · Latchkey") }
        } />
        // Pages render whole on the server (`SsrMode::Async`): they are small, and a complete
        // document is what makes every page work with JavaScript disabled.
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Latchkey"</a>
            </header>
            <main class="page">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=Root ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/signup") view=SignupPage ssr=SsrMode::Async />
                    <Route path=path!("/append") view=AppendPage ssr=SsrMode::Async />
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/passkeys") view=PasskeysPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

/// `/` only forwards (the server answers it with a redirect; this covers client navigation).
#[component]
fn Root() -> impl IntoView {
    view! { <Guarded view=|_| () /> }
}

/// Renders `view` once the journey allows the current page for this session, and navigates
/// away otherwise. The server has already enforced the same rule for the first page load;
/// this is the mirror for client-side navigation, and decides nothing the server relies on.
#[component]
pub fn Guarded<F, V>(view: F) -> impl IntoView
where
    F: Fn(SessionInfo) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let location = use_location();
    let session = Resource::new(|| (), |_| fetch_session());
    // Errors are shown below; never navigate on them.
    let decide_for = move |result: &Result<Option<SessionInfo>, _>| match result {
        Ok(info) => decide(
            &location.pathname.get(),
            &location.search.get(),
            state_of(info.as_ref()),
        ),
        Err(_) => Decision::Allow,
    };
    let navigate = use_navigate();
    // (Effects may read the resource; the view reads it inside <Suspense/>.)
    Effect::new(move |_| {
        if let Some(Decision::Redirect(to)) = session.get().as_ref().map(decide_for) {
            navigate(
                &to,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                session
                    .get()
                    .map(|result| match (decide_for(&result), result) {
                        (Decision::Allow, Ok(Some(info))) => view(info).into_any(),
                        (_, Err(err)) => view! { <p role="alert">{err.to_string()}</p> }.into_any(),
                        _ => ().into_any(),
                    })
            }}
        </Suspense>
    }
}
