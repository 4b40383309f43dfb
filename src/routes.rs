//! Every path of the site, once: each page with the guard it needs and the component that
//! renders it, and the server's own endpoints.
//!
//! The router ([`PageRoutes`]), the server's journey guard, the browser's guard and every
//! link read this table, so a page cannot exist without a guard kind, and no path is typed
//! twice. A new page is one row in `pages!` below.

use leptos::prelude::*;
use leptos_router::components::{Route, Routes};
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

/// Who may see a page: what the journey guard checks before it renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone (the 404 page).
    Public,
    /// Sign-in and sign-up: a signed-in person goes on (the dashboard, or the append step
    /// still pending) instead of seeing the forms again.
    SignedOut,
    /// `/`: sends everyone where they belong.
    Root,
    /// The step every login passes through first.
    Append,
    /// A signed-in session that has passed the append step; the page's sub-paths too.
    Protected,
    /// The operator console: an operator's active session with a recent login; for anyone
    /// else the area does not exist (the 404 page). The page's sub-paths too.
    Operator,
}

impl Guard {
    /// Whether the rule also covers the paths below the page (`/passkeys/…`): a protected
    /// area stays protected however deep a link goes.
    pub const fn covers_sub_paths(self) -> bool {
        matches!(self, Self::Protected | Self::Operator)
    }
}

macro_rules! pages {
    ($( $(#[$doc:meta])* $page:ident = $path:tt, $guard:expr, $view:path $(, $loading:ident)?; )*) => {
        /// A page of the site.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Page { $( $(#[$doc])* $page, )* }

        impl Page {
            pub const ALL: &'static [Page] = &[ $( Page::$page, )* ];

            pub const fn path(self) -> &'static str {
                match self { $( Page::$page => $path, )* }
            }

            pub const fn guard(self) -> Guard {
                match self { $( Page::$page => $guard, )* }
            }
        }

        /// The router's table, built from the same rows. Pages render whole on the server
        /// (`SsrMode::Async`): they are small, and a complete document is what makes every
        /// page work with JavaScript disabled.
        #[component]
        pub fn PageRoutes() -> impl IntoView {
            view! {
                <Routes fallback=crate::pages::not_found::NotFoundPage>
                    $( <Route path=path!($path) view={route_view!($($loading)? $page $view)} ssr=SsrMode::Async /> )*
                </Routes>
            }
        }

        /// The views of the `lazy` rows, each split into a wasm module of its own.
        mod lazy_views {
            use super::*;
            $( lazy_view!($($loading)? $page $view); )*
        }
    };
}

/// A row's view: the page's component, or (`lazy`) its lazily loaded module.
macro_rules! route_view {
    (lazy $page:ident $view:path) => {
        Lazy::<lazy_views::$page>::new()
    };
    ($page:ident $view:path) => {
        $view
    };
}

/// For a `lazy` row, the route whose view lives in its own wasm module: the browser fetches
/// it the first time the page is shown (on a first load, in parallel with the main module:
/// the server names its files in `preload` links). The server renders it like any page.
macro_rules! lazy_view {
    (lazy $page:ident $view:path) => {
        pub struct $page;

        #[lazy_route]
        impl LazyRoute for $page {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $view().into_any()
            }
        }
    };
    ($page:ident $view:path) => {};
}

// The sign-in path (`/`, `/login`, `/append`) is in the main module, so it is interactive as
// soon as that has loaded; every other page is `lazy`: its code is only downloaded by those
// who open it (the console's by operators alone).
pages! {
    Root = "/", Guard::Root, crate::pages::root::RootPage;
    Login = "/login", Guard::SignedOut, crate::pages::login::LoginPage;
    Signup = "/signup", Guard::SignedOut, crate::pages::signup::SignupPage, lazy;
    Append = "/append", Guard::Append, crate::pages::append::AppendPage;
    /// Where a signed-in person goes when nothing else was asked for.
    Dashboard = "/dashboard", Guard::Protected, crate::pages::dashboard::DashboardPage, lazy;
    Passkeys = "/passkeys", Guard::Protected, crate::pages::passkeys::PasskeysPage, lazy;
    /// The operator console (docs/console.md).
    AdminOverview = "/admin", Guard::Operator, crate::pages::admin::overview::OverviewPage, lazy;
    AdminAccounts = "/admin/accounts", Guard::Operator, crate::pages::admin::accounts::AccountsPage, lazy;
    AdminAccount = "/admin/accounts/:id", Guard::Operator, crate::pages::admin::account::AccountPage, lazy;
    AdminSettings = "/admin/settings", Guard::Operator, crate::pages::admin::settings::SettingsPage, lazy;
    AdminEvents = "/admin/events", Guard::Operator, crate::pages::admin::events::EventsPage, lazy;
}

impl Page {
    /// The page whose guard applies to `path` (itself, or the area it lies in).
    pub fn owning(path: &str) -> Option<Page> {
        let path = if path.is_empty() { "/" } else { path };
        let all = Self::ALL.iter().copied();
        all.clone().find(|page| path == page.path()).or_else(|| {
            all.filter(|page| {
                page.guard().covers_sub_paths()
                    && path
                        .strip_prefix(page.path())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|page| page.path().len())
        })
    }

    /// The page the router renders for `path` (a `:param` segment matches any one
    /// non-empty segment); `None` where the router would show the 404 page.
    pub fn matching(path: &str) -> Option<Page> {
        let segments: Vec<&str> = path.split('/').collect();
        Self::ALL.iter().copied().find(|page| {
            let pattern: Vec<&str> = page.path().split('/').collect();
            pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(&segments)
                    .all(|(want, got)| want == got || (want.starts_with(':') && !got.is_empty()))
        })
    }

    /// `/admin/accounts/:id` with the id filled in (percent-encoded).
    pub fn admin_account(id: &str) -> String {
        format!("/admin/accounts/{}", crate::journey::percent_encode(id))
    }

    /// The guard for any request path; paths of no page are public (they answer 404).
    pub fn guard_of(path: &str) -> Guard {
        Self::owning(path).map_or(Guard::Public, Page::guard)
    }
}

/// Paths the server answers itself, outside the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Where an OpenID provider sends the browser back after login (register it there).
    OidcCallback,
    /// Where an OpenID provider posts its back-channel logout tokens (register it there).
    BackchannelLogout,
    /// "The process answers" (liveness).
    Health,
    /// "This instance can serve logins": database, migrations, identity provider.
    Ready,
    /// Prometheus' text format (here unless `metrics-addr` gives it a port of its own).
    Metrics,
    /// The browser bundle (wasm, JS, CSS) under this prefix.
    Assets,
    Favicon,
    /// The console Overview's daily table as CSV (`?days=7|30|90`), for operators only.
    OverviewCsv,
    /// The console's server functions: for operators only.
    AdminApi,
}

impl Endpoint {
    pub const fn path(self) -> &'static str {
        match self {
            Self::OidcCallback => "/auth/callback",
            Self::BackchannelLogout => "/auth/backchannel-logout",
            Self::Health => "/healthz",
            Self::Ready => "/readyz",
            Self::Metrics => "/metrics",
            Self::Assets => "/pkg/",
            Self::Favicon => "/favicon.svg",
            Self::OverviewCsv => "/admin/overview.csv",
            Self::AdminApi => "/api/admin/",
        }
    }

    /// Requests that never need the session (no store lookup).
    pub fn is_sessionless(path: &str) -> bool {
        path.starts_with(Self::Assets.path())
            || path == Self::Health.path()
            || path == Self::Ready.path()
            || path == Self::Metrics.path()
            || path == Self::Favicon.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_finds_its_page() {
        for page in Page::ALL {
            assert_eq!(Page::owning(page.path()), Some(*page));
        }
        assert_eq!(Page::owning(""), Some(Page::Root));
        assert_eq!(Page::owning("/passkeys/x"), Some(Page::Passkeys));
        // Only areas cover what lies below them; look-alikes are not below.
        assert_eq!(Page::owning("/login/x"), None);
        assert_eq!(Page::owning("/dashboardx"), None);
        assert_eq!(Page::guard_of("/no-such-page"), Guard::Public);
        // The console's pages, its CSV and anything below it are the operators' area.
        assert_eq!(
            Page::owning("/admin/accounts/acc-1"),
            Some(Page::AdminAccounts)
        );
        assert_eq!(Page::guard_of("/admin/overview.csv"), Guard::Operator);
        assert_eq!(Page::guard_of("/admin/no-such-page"), Guard::Operator);
        assert_eq!(Page::owning("/administrator"), None);
    }

    #[test]
    fn paths_are_unique_and_absolute() {
        for (i, page) in Page::ALL.iter().enumerate() {
            assert!(page.path().starts_with('/'), "{page:?}");
            assert!(
                Page::ALL[..i].iter().all(|p| p.path() != page.path()),
                "{page:?}"
            );
        }
    }

    /// The router serves exactly the pages of the table: a route added beside it (and so
    /// without a guard kind) fails here.
    #[cfg(feature = "ssr")]
    #[test]
    fn the_router_serves_exactly_the_table() {
        let routed = leptos_axum::generate_route_list(crate::app::App);
        let mut paths: Vec<String> = routed.iter().map(|r| r.path().to_string()).collect();
        paths.sort();
        paths.dedup();
        // The router writes parameters axum's way (`:id` becomes `{id}`).
        let axum_style = |path: &str| {
            path.split('/')
                .map(|part| match part.strip_prefix(':') {
                    Some(name) => format!("{{{name}}}"),
                    None => part.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/")
        };
        let mut table: Vec<String> = Page::ALL.iter().map(|p| axum_style(p.path())).collect();
        table.sort();
        assert_eq!(paths, table);
    }
}
