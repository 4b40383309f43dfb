//! One module per route.

pub mod admin;
pub mod append;
pub mod dashboard;
pub mod login;
pub mod not_found;
pub mod passkeys;
pub mod root;
pub mod signup;

use leptos::prelude::*;

use crate::error::AppError;

/// The error of the last submission of a form, in an alert so screen readers announce it.
#[component]
pub fn FormError<T>(result: Signal<Option<Result<T, AppError>>>) -> impl IntoView
where
    T: Send + Sync + 'static,
{
    move || {
        result.with(|result| match result {
            Some(Err(err)) => Some(view! { <p class="alert" role="alert">{err.to_string()}</p> }),
            _ => None,
        })
    }
}

/// A field's error, right below it (the field names it in `aria-describedby`).
#[component]
pub fn FieldError(id: &'static str, message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message
            .get()
            .map(|message| view! { <p class="field-error" id=id role="alert">{message}</p> })
    }
}
