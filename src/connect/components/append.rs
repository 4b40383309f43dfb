//! `ConnectAppend`: the passkey offer every login passes through.
//!
//! The app has already said it may offer (no "Don't ask again", no snooze). The create hook
//! asks the passkey service whether to offer on this browser (rollout, a passkey already made
//! here, a platform authenticator) and, when it does, this shows the explainer with "Create
//! passkey", "Skip" and "Don't ask again". When it does not, the step forwards to the target
//! at once, recording why.
//!
//! Nothing is shown that could vanish: until the service has answered, the card says only
//! that it is checking; the offer appears once it is certain, and stays while the person
//! retries. Without JavaScript no passkey can be made: the card says so and continues.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::task::spawn_local;

use super::WaitingStatus;
use crate::connect::hooks::{
    use_passkey_create, CreateOutcome, CreateState, UsePasskeyCreateOptions,
};
use crate::pages::FormError;
use crate::server_fns::append::{finish_append, AppendOutcome, FinishAppend};

const MSG_CANCELLED: &str = "Passkey creation was cancelled. You can try again, or skip for now.";
const MSG_FAILED: &str = "The passkey could not be created. You can try again, or skip for now.";
const MSG_NOT_SAVED: &str = "The passkey could not be saved. You can try again, or skip for now.";

/// What the step does with an outcome: leave (with how and why), or say something and stay.
fn after(outcome: &CreateOutcome) -> Result<(AppendOutcome, String), String> {
    match outcome {
        CreateOutcome::Created => Ok((AppendOutcome::Created, "created".into())),
        CreateOutcome::Declined(reason) => Ok((AppendOutcome::NotOffered, reason.clone())),
        // `excludeCredentials` matched: this authenticator already holds a passkey for this
        // account, so there is nothing to offer here.
        CreateOutcome::AlreadyRegistered => {
            Ok((AppendOutcome::NotOffered, "passkey-exists".into()))
        }
        CreateOutcome::Cancelled => Err(MSG_CANCELLED.into()),
        CreateOutcome::Failed => Err(MSG_FAILED.into()),
        CreateOutcome::NotSaved => Err(MSG_NOT_SAVED.into()),
        // The service's sentence says why (the authenticator policy); another authenticator
        // may be accepted.
        CreateOutcome::Refused(sentence) => Err(sentence.clone()),
    }
}

#[component]
pub fn ConnectAppend(
    next: String,
    /// Let the password manager make the passkey without a dialog first, where the browser
    /// can (conditional create); the offer is shown meanwhile.
    #[prop(optional)]
    automatic_upgrade: bool,
) -> impl IntoView {
    let notice = RwSignal::new(None::<String>);
    let leaving = RwSignal::new(false);
    let on_outcome = {
        let next = next.clone();
        move |outcome: CreateOutcome| match after(&outcome) {
            Ok((how, reason)) => {
                leaving.set(true);
                let next = next.clone();
                // The server clears the step, then redirects: the browser navigates once.
                spawn_local(async move {
                    if let Err(err) = finish_append(next, how, None, Some(reason)).await {
                        notice.set(Some(err.to_string()));
                        leaving.set(false);
                    }
                });
            }
            Err(message) => notice.set(Some(message)),
        }
    };
    let ceremony = use_passkey_create(
        UsePasskeyCreateOptions::default()
            .automatic_upgrade(automatic_upgrade)
            .on_outcome(on_outcome),
    );

    let skip = ServerAction::<FinishAppend>::new();
    let state = ceremony.state;
    let ready = move || state.get() == CreateState::Ready && !leaving.get();
    // The offer is shown once the service made it, and then kept (a retry fetches fresh
    // options, passing through "checking" again).
    let offered = RwSignal::new(false);
    Effect::new(move |_| {
        if state.get() == CreateState::Ready {
            offered.set(true);
        }
    });
    let waiting = Signal::derive(move || {
        if leaving.get() {
            Some("Continuing…")
        } else if state.get() == CreateState::Working {
            Some("Waiting for your passkey…")
        } else if !offered.get() {
            Some("Checking whether this device can use a passkey…")
        } else {
            None
        }
    });
    let after_hybrid = ceremony.after_hybrid;
    let heading = move || {
        if after_hybrid.get() {
            "Create a passkey on this device"
        } else {
            "Sign in faster with a passkey"
        }
    };
    let create = move |_| {
        notice.set(None);
        ceremony.create();
    };

    let offer = {
        let next = next.clone();
        move || {
            let next = next.clone();
            let create = create.clone();
            offered.get().then(|| view! {
                <h1>{heading}</h1>
                <p>
                    "A passkey lets you sign in with your fingerprint, face or screen lock "
                    "instead of a password. It cannot be phished or leaked, and your password "
                    "keeps working."
                </p>
                {move || notice.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
                <button type="button" class="primary" disabled=move || !ready() on:click=create>
                    "Create passkey"
                </button>
                <ActionForm action=skip attr:class="stack">
                    <input type="hidden" name="next" value=next />
                    <input type="hidden" name="outcome" value="skipped" />
                    <label class="check">
                        <input type="checkbox" name="dont_ask_again" value="on" />
                        "Don't ask again"
                    </label>
                    <FormError result=skip.value().into() />
                    <button
                        type="submit"
                        class="secondary"
                        disabled=move || skip.pending().get() || leaving.get()
                    >
                        "Skip"
                    </button>
                </ActionForm>
            })
        }
    };

    view! {
        <section class="card">
            {offer}
            <div class="needs-js">
                <WaitingStatus waiting />
            </div>
            <div class="no-js">
                <h1>"Passkeys need JavaScript"</h1>
                <p>
                    "Creating a passkey needs JavaScript, which is turned off in this browser. "
                    "You can add one later from your passkeys."
                </p>
                <form method="post" action=FinishAppend::url() class="stack">
                    <input type="hidden" name="next" value=next />
                    <input type="hidden" name="outcome" value="not-offered" />
                    <input type="hidden" name="reason" value="no-javascript" />
                    <button type="submit" class="primary">"Continue"</button>
                </form>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_leaves_unless_the_person_may_retry() {
        assert_eq!(
            after(&CreateOutcome::Created),
            Ok((AppendOutcome::Created, "created".into()))
        );
        assert_eq!(
            after(&CreateOutcome::Declined("rollout-denied".into())),
            Ok((AppendOutcome::NotOffered, "rollout-denied".into()))
        );
        assert_eq!(
            after(&CreateOutcome::AlreadyRegistered),
            Ok((AppendOutcome::NotOffered, "passkey-exists".into()))
        );
        assert_eq!(after(&CreateOutcome::Cancelled), Err(MSG_CANCELLED.into()));
        assert_eq!(after(&CreateOutcome::Failed), Err(MSG_FAILED.into()));
        assert_eq!(after(&CreateOutcome::NotSaved), Err(MSG_NOT_SAVED.into()));
        assert_eq!(
            after(&CreateOutcome::Refused("Only synced passkeys.".into())),
            Err("Only synced passkeys.".into())
        );
    }
}
