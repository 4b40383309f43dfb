//! The journey over real HTTP: guards, sessions, cookies, origin checks, errors.
#![cfg(feature = "ssr")]

mod support;

use support::*;

async fn passed_append(app: &TestApp, cookie: &str) {
    let res = app
        .call(
            "finish_append",
            &[("next", ""), ("outcome", "skipped")],
            Some(cookie),
        )
        .await;
    assert!(res.status().is_success(), "finish_append: {}", res.status());
}

async fn anonymous_visitors_are_sent_to_login_with_no_body(db: Db) {
    let app = TestApp::start(db).await;
    for (path, expected) in [
        ("/dashboard", "/login?next=/dashboard"),
        ("/dashboard?tab=a", "/login?next=/dashboard%3Ftab%3Da"),
        ("/append?next=%2Fdashboard", "/login?next=/dashboard"),
        ("/", "/login"),
    ] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(location(&res).as_deref(), Some(expected), "{path}");
        assert!(
            res.text().await.unwrap().is_empty(),
            "{path}: a redirect carries no page"
        );
    }
    let res = app.get("/login", None).await;
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("Sign in") && body.contains("Create an account"));
}

async fn every_login_goes_through_append_first(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    let cookie = app.sign_up(&email, PASSWORD).await;

    let res = app.get("/dashboard", Some(&cookie)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res).as_deref(), Some("/append?next=/dashboard"));
    assert_eq!(app.get("/append", Some(&cookie)).await.status(), 200);

    passed_append(&app, &cookie).await;
    let res = app.get("/dashboard", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains(&email));
    // Once passed, /append forwards to the target.
    let res = app.get("/append?next=%2Fdashboard", Some(&cookie)).await;
    assert_eq!(location(&res).as_deref(), Some("/dashboard"));

    // A new login is append-pending again.
    let res = app.sign_in(&email, PASSWORD).await;
    assert_eq!(res.status(), 200);
    let second = session_cookie(&res).unwrap();
    let res = app.get("/dashboard", Some(&second)).await;
    assert_eq!(location(&res).as_deref(), Some("/append?next=/dashboard"));
}

async fn login_redirects_to_append_carrying_a_safe_next_only(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    app.sign_up(&email, PASSWORD).await;
    for (next, expected) in [
        ("/passkeys", "/append?next=/passkeys"),
        ("", "/append"),
        ("https://evil.example/", "/append"),
        ("//evil.example", "/append"),
    ] {
        let res = app
            .call(
                "sign_in",
                &[("email", &email), ("password", PASSWORD), ("next", next)],
                None,
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(location(&res).as_deref(), Some(expected), "next={next}");
    }
}

async fn session_cookie_is_http_only_lax_and_new_on_every_login(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    app.sign_up(&email, PASSWORD).await;
    let first = app.sign_in(&email, PASSWORD).await;
    let line = set_cookie_line(&first).unwrap();
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Lax") && line.contains("Path=/"),
        "{line}"
    );
    assert!(
        !line.contains("Secure"),
        "plain http localhost: no Secure flag"
    );
    let token = session_cookie(&first).unwrap();
    assert!(
        token.len() > "latchkey_session=".len() + 40,
        "≥ 256-bit token: {token}"
    );

    // Logging in again from the same browser replaces the session: new id, old one dead.
    let res = app
        .call(
            "sign_in",
            &[("email", &email), ("password", PASSWORD), ("next", "")],
            Some(&token),
        )
        .await;
    let second = session_cookie(&res).unwrap();
    assert_ne!(second, token);
    let res = app.get("/append", Some(&token)).await;
    assert_eq!(res.status(), 303, "the replaced session no longer works");
    assert_eq!(app.get("/append", Some(&second)).await.status(), 200);
}

async fn sign_out_deletes_the_session_server_side(db: Db) {
    let app = TestApp::start(db).await;
    let cookie = app.sign_up(&unique_email(), PASSWORD).await;
    passed_append(&app, &cookie).await;
    let res = app.call("sign_out", &[], Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(location(&res).as_deref(), Some("/login"));
    assert_eq!(session_cookie(&res).as_deref(), Some("latchkey_session="));
    // Replaying the old cookie does not bring the session back, and the browser is told to drop it.
    let res = app.get("/dashboard", Some(&cookie)).await;
    assert_eq!(location(&res).as_deref(), Some("/login?next=/dashboard"));
    assert_eq!(session_cookie(&res).as_deref(), Some("latchkey_session="));
}

async fn wrong_password_and_unknown_email_get_the_same_answer(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    app.sign_up(&email, PASSWORD).await;
    let wrong = app.sign_in(&email, "not the password").await;
    let unknown = app.sign_in(&unique_email(), PASSWORD).await;
    let malformed = app.sign_in("not-an-email", PASSWORD).await;
    let mut bodies = Vec::new();
    for res in [wrong, unknown, malformed] {
        assert_eq!(res.status(), 401);
        assert!(
            session_cookie(&res).is_none(),
            "no session on a failed login"
        );
        bodies.push(res.text().await.unwrap());
    }
    assert!(
        bodies[0].contains("email or password is wrong"),
        "{}",
        bodies[0]
    );
    assert!(bodies.iter().all(|b| b == &bodies[0]), "{bodies:?}");
}

async fn sign_up_refuses_duplicates_and_bad_input_clearly(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    app.sign_up(&email, PASSWORD).await;
    let res = app
        .call(
            "sign_up",
            &[
                ("email", &email.to_uppercase()),
                ("password", PASSWORD),
                ("next", ""),
            ],
            None,
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(session_cookie(&res).is_none());
    assert!(res.text().await.unwrap().contains("already exists"));

    let res = app
        .call(
            "sign_up",
            &[
                ("email", &unique_email()),
                ("password", "short"),
                ("next", ""),
            ],
            None,
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("at least 8 characters"));

    let res = app
        .call(
            "sign_up",
            &[("email", "nope"), ("password", PASSWORD), ("next", "")],
            None,
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("valid email"));

    // A body that is not the expected form is bad input, not a server error.
    let res = TestApp::client()
        .post(format!("{}/api/sign_up", app.base))
        .header("origin", &app.origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=%ZZ")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
}

async fn cross_site_posts_are_refused(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    let cookie = app.sign_up(&email, PASSWORD).await;
    let post = |origin: Option<&str>, fetch_site: Option<&str>| {
        let mut req = TestApp::client()
            .post(format!("{}/api/finish_append", app.base))
            .header("cookie", &cookie)
            .form(&[("next", ""), ("outcome", "skipped")]);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        if let Some(site) = fetch_site {
            req = req.header("sec-fetch-site", site);
        }
        req.send()
    };
    assert_eq!(
        post(Some("https://evil.example"), None)
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(post(Some("null"), None).await.unwrap().status(), 403);
    assert_eq!(post(None, None).await.unwrap().status(), 403);
    assert_eq!(post(None, Some("cross-site")).await.unwrap().status(), 403);
    // Refused requests changed nothing: the append step is still pending.
    assert_eq!(app.get("/append", Some(&cookie)).await.status(), 200);
    assert_eq!(post(None, Some("same-origin")).await.unwrap().status(), 200);
}

async fn server_functions_enforce_the_journey_too(db: Db) {
    let app = TestApp::start(db).await;
    let res = app
        .call(
            "finish_append",
            &[("next", ""), ("outcome", "skipped")],
            None,
        )
        .await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("sign in"));
}

async fn plain_form_posts_work_without_javascript(db: Db) {
    let app = TestApp::start(db).await;
    let email = unique_email();
    let form = |endpoint: &str, fields: &[(&str, &str)], referer: &str, cookie: Option<&str>| {
        let mut req = TestApp::client()
            .post(format!("{}/api/{endpoint}", app.base))
            .header("origin", &app.origin)
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", format!("{}{referer}", app.origin))
            .form(fields);
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie.to_string());
        }
        req.send()
    };
    let res = form(
        "sign_up",
        &[
            ("email", &email),
            ("password", PASSWORD),
            ("next", "/dashboard"),
        ],
        "/signup?next=%2Fdashboard",
        None,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res).as_deref(), Some("/append?next=/dashboard"));
    let cookie = session_cookie(&res).unwrap();

    let res = form(
        "finish_append",
        &[("next", "/dashboard"), ("outcome", "skipped")],
        "/append?next=%2Fdashboard",
        Some(&cookie),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res).as_deref(), Some("/dashboard"));

    // A failed plain form goes back to the form with the error encoded for the page to show.
    let res = form(
        "sign_in",
        &[
            ("email", &email),
            ("password", "wrong password"),
            ("next", ""),
        ],
        "/login",
        None,
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 302);
    let back = location(&res).unwrap();
    assert!(
        back.contains("/login?") && back.contains("__err="),
        "{back}"
    );
    let page = app
        .get(back.trim_start_matches(&app.origin), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("role=\"alert\"") && page.contains("email or password is wrong"),
        "{page}"
    );
}

async fn unknown_pages_are_404_without_internals(db: Db) {
    let app = TestApp::start(db).await;
    let res = app.get("/no/such/page", None).await;
    assert_eq!(res.status(), 404);
    let body = res.text().await.unwrap();
    assert!(body.contains("Page not found"));
    for leak in ["panicked", "src/", "sqlx", "RUST_BACKTRACE"] {
        assert!(!body.contains(leak), "404 page leaks {leak}");
    }
}

async fn responses_carry_security_headers(db: Db) {
    let app = TestApp::start(db).await;
    let res = app.get("/login", None).await;
    let headers = res.headers();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

// On PostgreSQL by name; from before every test here ran on both databases.
#[tokio::test]
async fn the_journey_works_on_postgres_too() {
    let app = TestApp::start(Db::Postgres).await;
    let email = unique_email();
    let cookie = app.sign_up(&email, PASSWORD).await;
    passed_append(&app, &cookie).await;
    let res = app.get("/dashboard", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains(&email));
    assert_eq!(app.sign_in(&email, "wrong password").await.status(), 401);
}

on_both_databases!(
    anonymous_visitors_are_sent_to_login_with_no_body,
    every_login_goes_through_append_first,
    login_redirects_to_append_carrying_a_safe_next_only,
    session_cookie_is_http_only_lax_and_new_on_every_login,
    sign_out_deletes_the_session_server_side,
    wrong_password_and_unknown_email_get_the_same_answer,
    sign_up_refuses_duplicates_and_bad_input_clearly,
    cross_site_posts_are_refused,
    server_functions_enforce_the_journey_too,
    plain_form_posts_work_without_javascript,
    unknown_pages_are_404_without_internals,
    responses_carry_security_headers,
);
