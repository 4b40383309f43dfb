//! The HTML shell, the app frame around the routes, and the client half of the journey
//! guard.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::Router;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::journey::{decide, Decision};
use crate::routes::{Page, PageRoutes};
use crate::server_fns::account::{fetch_session, state_of, SessionInfo};

/// The page's first script, inline in `<head>` (the CSP names its nonce):
///
/// - marks the document `js`, so controls that only work with JavaScript (`.needs-js`) are
///   shown, and hidden when scripts are off;
/// - until the app is interactive (`__latchkeyHydrated`, set by `mark_hydrated`), keeps a click
///   on a button marked `data-early` for the app to replay (`take_early_clicks`) instead of
///   losing it to a form post or a dead handler; should the app not start within 10 s, the
///   button's form is submitted as without JavaScript (the password step).
///
/// Written by hand: no library does "replay clicks made before hydration" for Leptos.
pub const EARLY_CLICKS: &str = "(function(){\
var d=document;d.documentElement.classList.add('js');\
var kept=window.__latchkeyEarly=[];\
d.addEventListener('click',function(e){\
if(window.__latchkeyHydrated)return;\
var b=e.target&&e.target.closest?e.target.closest('[data-early]'):null;\
if(!b||b.disabled)return;\
e.preventDefault();\
kept.push(b.getAttribute('data-early'));\
b.classList.add('is-waiting');\
setTimeout(function(){\
if(!window.__latchkeyHydrated&&b.form&&b.form.getAttribute('action')){b.form.submit();}\
},10000);\
},true);\
})();";

pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The page's Content Security Policy names the nonce of its inline hydration scripts.
    #[cfg(feature = "ssr")]
    crate::server::headers::set_page_policy();
    // The stylesheet's hashed name is known on the server only (see server::assets).
    #[cfg(feature = "ssr")]
    let stylesheet = use_context::<crate::server::AppState>()
        .map(|app| app.stylesheet.to_string())
        .unwrap_or_else(|| "/pkg/latchkey.css".to_string());
    #[cfg(not(feature = "ssr"))]
    let stylesheet = String::new();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" href=stylesheet />
                <script nonce=leptos::nonce::use_nonce() inner_html=EARLY_CLICKS></script>
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
        <Title formatter=|page: String| {
            if page.is_empty() { "Latchkey".to_string() } else { format!("{page} · Latchkey") }
        } />
        <Router>
            <header class="topbar">
                <a class="brand" href=Page::Root.path()>"Latchkey"</a>
            </header>
            <main class="page">
                <PageRoutes />
            </main>
        </Router>
    }
}

/// Renders `view` once the journey allows the current page for this session, and navigates
/// away otherwise. The server has already enforced the same rule for the first page load;
/// this is the mirror for client-side navigation, and decides nothing the server relies on.
///
/// The page's own path is read once, when it is created: a page that is being left must not
/// judge the page it is leaving for (that sent the browser back and forth).
#[component]
pub fn Guarded<F, V>(view: F) -> impl IntoView
where
    F: Fn(SessionInfo) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let location = use_location();
    let (path, query) = (
        location.pathname.get_untracked(),
        location.search.get_untracked(),
    );
    let session = Resource::new(|| (), |_| fetch_session());
    // Errors are shown below; never navigate on them.
    let decide_for = move |result: &Result<Option<SessionInfo>, _>| match result {
        Ok(info) => decide(&path, &query, state_of(info.as_ref())),
        Err(_) => Decision::Allow,
    };
    let navigate = use_navigate();
    // (Effects may read the resource; the view reads it inside <Suspense/>.)
    let decide_now = decide_for.clone();
    Effect::new(move |_| {
        if let Some(Decision::Redirect(to)) = session.get().as_ref().map(&decide_now) {
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
