//! `/signup`: the IdP's classic registration. Passkeys do not change it. With an OpenID
//! provider, registration is the provider's own page: this one links there.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::FieldError;
use crate::error::AppError;
use crate::journey::{password_step, with_next};
use crate::routes::Page;
use crate::server_fns::account::{fetch_login_page, ClassicLogin, SignUp};

#[component]
pub fn SignupPage() -> impl IntoView {
    let info = Resource::new(|| (), |_| fetch_login_page());
    view! {
        <Title text="Create an account" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                info.get()
                    .map(|info| match info.map(|info| info.classic) {
                        Ok(ClassicLogin::Provider { name, registration_url }) => {
                            view! { <ProviderSignup name registration_url /> }.into_any()
                        }
                        _ => view! { <PasswordSignup /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

/// The provider's own sign-up, then back here to sign in.
#[component]
fn ProviderSignup(name: String, registration_url: Option<String>) -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let login_href = move || with_next(Page::Login.path(), Some(&next()));
    let how = match registration_url {
        Some(url) => view! {
            <p>"Accounts are created at " {name.clone()} "."</p>
            <a class="button primary" href=url>
                "Create an account at " {name}
            </a>
        }
        .into_any(),
        None => view! {
            <p>
                "Accounts are managed by " {name}
                ". Sign in and follow its sign-up link, or ask your administrator."
            </p>
        }
        .into_any(),
    };
    view! {
        <section class="card">
            <h1>"Create an account"</h1>
            {how}
            <p class="muted">"Already have an account? " <a href=login_href>"Sign in"</a></p>
        </section>
    }
}

/// Which field a refused sign-up is about (its message goes right below it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Email,
    Password,
    /// Not one field (too many attempts, an outage): below the form.
    Form,
}

fn field_of(err: &AppError) -> Field {
    match err {
        AppError::EmailTaken => Field::Email,
        // The IdP's own sentences name what to fix ("Enter a valid email address.",
        // "Use at least 8 characters for your password.").
        AppError::Invalid(message) => {
            let message = message.to_lowercase();
            if message.contains("password") {
                Field::Password
            } else if message.contains("email") {
                Field::Email
            } else {
                Field::Form
            }
        }
        _ => Field::Form,
    }
}

const EMAIL_ERROR_ID: &str = "signup-email-error";
const PASSWORD_ERROR_ID: &str = "signup-password-error";

/// Email + password with the builtin IdP.
#[component]
fn PasswordSignup() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let login_href = move || with_next(Page::Login.path(), Some(&next()));
    let sign_up = ServerAction::<SignUp>::new();
    let pending = sign_up.pending();
    // What was typed (the field is never overwritten: typing before hydration stays).
    let email = RwSignal::new(String::new());
    let error_for = move |field: Field| {
        sign_up.value().with(|result| match result {
            Some(Err(err)) if field_of(err) == field => Some(err.clone()),
            _ => None,
        })
    };
    let email_error = move || error_for(Field::Email);
    let password_error = move || error_for(Field::Password);
    let email_error_view = move || {
        email_error().map(|err| {
            // "Sign in instead" goes to the password step with the email carried over.
            let sign_in = (err == AppError::EmailTaken).then(|| {
                let href = password_step(&email.get_untracked(), Some(&next()));
                view! { " " <a href=href>"Sign in instead"</a> }
            });
            let message = match err {
                AppError::EmailTaken => "An account with this email already exists.".to_string(),
                other => other.to_string(),
            };
            view! { <p class="field-error" id=EMAIL_ERROR_ID role="alert">{message}{sign_in}</p> }
        })
    };
    let password_described = move || {
        if password_error().is_some() {
            format!("{PASSWORD_ERROR_ID} signup-password-hint")
        } else {
            "signup-password-hint".to_string()
        }
    };

    view! {
        <section class="card">
            <h1>"Create an account"</h1>
            <ActionForm action=sign_up attr:class="stack">
                <input type="hidden" name="next" prop:value=next />
                <label for="signup-email">"Email"</label>
                <input
                    id="signup-email"
                    name="email"
                    type="email"
                    autocomplete="email"
                    required
                    autofocus
                    on:input=move |ev| email.set(event_target_value(&ev))
                    aria-invalid=move || email_error().is_some().to_string()
                    aria-describedby=move || email_error().map(|_| EMAIL_ERROR_ID)
                />
                {email_error_view}
                <label for="signup-password">"Password"</label>
                <input
                    id="signup-password"
                    name="password"
                    type="password"
                    autocomplete="new-password"
                    minlength="8"
                    aria-describedby=password_described
                    aria-invalid=move || password_error().is_some().to_string()
                    required
                />
                <FieldError
                    id=PASSWORD_ERROR_ID
                    message=Signal::derive(move || password_error().map(|err| err.to_string()))
                />
                <p id="signup-password-hint" class="hint">"At least 8 characters."</p>
                {move || error_for(Field::Form).map(|err| view! {
                    <p class="alert" role="alert">{err.to_string()}</p>
                })}
                <button type="submit" class="primary" disabled=pending>
                    "Create account"
                </button>
            </ActionForm>
            <p class="muted">"Already have an account? " <a href=login_href>"Sign in"</a></p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_shown_at_the_field_they_are_about() {
        let cases = [
            (AppError::EmailTaken, Field::Email),
            (
                AppError::Invalid("Enter a valid email address.".into()),
                Field::Email,
            ),
            (
                AppError::Invalid("Use at least 8 characters for your password.".into()),
                Field::Password,
            ),
            (
                AppError::Invalid("That password is too long.".into()),
                Field::Password,
            ),
            (AppError::Invalid("Something else.".into()), Field::Form),
            (AppError::Unavailable, Field::Form),
        ];
        for (err, field) in cases {
            assert_eq!(field_of(&err), field, "{err:?}");
        }
    }
}
