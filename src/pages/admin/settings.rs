//! `/admin/settings`: the settings operators change while Latchkey runs. Saved in the
//! database, in effect on every instance within seconds; each refused field says why.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{Console, Loaded};
use crate::console::model::{PasskeyPolicy, SettingsForm, SettingsSaved};
use crate::pages::FormError;
use crate::routes::Page;
use crate::server_fns::admin::{admin_passkey_policy, admin_settings, AdminSaveSettings};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<AdminSaveSettings>::new();
    let settings = Resource::new(move || save.version().get(), |_| admin_settings());
    let policy = Resource::new(|| (), |_| admin_passkey_policy());
    view! {
        <Title text="Settings" />
        <Console current=Page::AdminSettings>
            <h1>"Settings"</h1>
            <p class="muted">
                "Saved for every instance: in effect everywhere within a few seconds. "
                "Until the first save, the configuration file's values apply."
            </p>
            <Loaded resource=settings view=move |form: SettingsForm| view! { <Settings form save /> } />
            <Loaded resource=policy view=|policy: PasskeyPolicy| view! { <Policy policy /> } />
        </Console>
    }
}

/// The rules from the configuration file: shown, not edited here.
#[component]
fn Policy(policy: PasskeyPolicy) -> impl IntoView {
    let related = if policy.related_origins.is_empty() {
        view! { <p>"None: only this site uses these passkeys."</p> }.into_any()
    } else {
        view! {
            <ul>
                {policy.related_origins.into_iter().map(|origin| view! { <li><code>{origin}</code></li> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section aria-labelledby="policy-heading" class="stack policy">
            <h2 id="policy-heading">"Passkey policy"</h2>
            <p class="muted">
                "Set in the configuration (passkey-providers-allowed, passkey-providers-refused, "
                "passkey-storage, related-origins); a restart applies changes. It decides which new "
                "passkeys are kept; passkeys already made keep working. A provider is what the "
                "authenticator says it is: a hint, not proof."
            </p>
            <ul aria-label="Which new passkeys are kept">
                {policy.rules.into_iter().map(|rule| view! { <li>{rule}</li> }).collect_view()}
            </ul>
            <h3>"Related origins"</h3>
            {related}
        </section>
    }
}

#[component]
fn Settings(form: SettingsForm, save: ServerAction<AdminSaveSettings>) -> impl IntoView {
    let saved = save.value();
    let problem = move |field: &'static str| {
        move || {
            saved.with(|saved| match saved {
                Some(Ok(SettingsSaved { problems, .. })) => problems
                    .iter()
                    .find(|(f, _)| f == field)
                    .map(|(_, message)| message.clone()),
                _ => None,
            })
        }
    };
    // The values as typed in the last refused save, else the stored ones.
    let typed = move |field: &'static str, stored: String| {
        move || {
            save.input()
                .with(|input| {
                    input.as_ref().map(|i| match field {
                        "login_rollout_percent" => i.login_rollout_percent.clone(),
                        "append_rollout_percent" => i.append_rollout_percent.clone(),
                        "append_snooze_hours" => i.append_snooze_hours.clone(),
                        _ => i.offer_again_after_days.clone(),
                    })
                })
                .filter(|_| saved.with(|s| matches!(s, Some(Ok(s)) if !s.problems.is_empty())))
                .unwrap_or_else(|| stored.clone())
        }
    };
    let number = move |field: &'static str, label: &'static str, stored: String| {
        let id = format!("setting-{field}");
        let error_id = format!("{id}-error");
        let message = problem(field);
        let invalid = problem(field);
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <input
                    id=id
                    name=field
                    // No min/max: the server checks the range and says so next to the field.
                    type="number"
                    inputmode="numeric"
                    required
                    prop:value=typed(field, stored)
                    aria-invalid=move || invalid().is_some().to_string()
                    aria-describedby=error_id.clone()
                />
                <p class="field-error" id=error_id>{message}</p>
            </div>
        }
    };
    let outcome = move || {
        saved.with(|saved| match saved {
            Some(Ok(SettingsSaved { problems, changes })) if problems.is_empty() => {
                let said = if changes.is_empty() {
                    "Settings saved (nothing changed).".to_string()
                } else {
                    format!("Settings saved: {}.", changes.join("; "))
                };
                Some(view! { <p role="status" class="notice">{said}</p> }.into_any())
            }
            Some(Ok(_)) => Some(
                view! { <p role="alert" class="alert">"Nothing was saved: fix the fields marked below."</p> }
                    .into_any(),
            ),
            _ => None,
        })
    };
    view! {
        <ActionForm action=save attr:class="stack settings-form">
            {outcome}
            <div class="field checkbox">
                <input
                    id="setting-passkeys_enabled"
                    name="passkeys_enabled"
                    type="checkbox"
                    value="on"
                    checked=form.passkeys_enabled
                />
                <label for="setting-passkeys_enabled">"Passkeys enabled"</label>
            </div>
            <p class="hint">"Off: nobody is offered passkey login or passkey creation (the kill switch)."</p>
            {number("login_rollout_percent", "Login rollout (%)", form.login_rollout_percent)}
            {number("append_rollout_percent", "Append rollout (%)", form.append_rollout_percent)}
            {number("append_snooze_hours", "Snooze after Skip (hours)", form.append_snooze_hours)}
            {number(
                "offer_again_after_days",
                "Offer again after Don't ask again (days)",
                form.offer_again_after_days,
            )}
            <p class="hint">"0 days: never offer again after Don't ask again."</p>
            <FormError result=save.value().into() />
            <button type="submit" class="primary">"Save settings"</button>
        </ActionForm>
    }
}
