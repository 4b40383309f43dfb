//! `/admin/accounts/:id`: one person as support sees them: status, passkeys, sessions and
//! what happened, with the actions an operator may take. Every action is a form that works
//! without JavaScript; deleting a passkey asks to confirm first (`?confirm=<passkey>`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::events::EventTable;
use super::{Console, DataTable, Loaded};
use crate::connect::components::ProviderIcon;
use crate::console::model::{AccountDetail, DecisionRow, EventRow, PasskeyRow, SessionRow};
use crate::pages::FormError;
use crate::routes::Page;
use crate::server_fns::admin::{
    admin_account, AdminBlockPasskeys, AdminDeletePasskey, AdminSetAccountDisabled,
    AdminSignOutEverywhere, AdminUnblockPasskeys,
};

/// The actions of the page; a finished one reloads the account.
#[derive(Clone, Copy)]
struct Actions {
    delete: ServerAction<AdminDeletePasskey>,
    sign_out: ServerAction<AdminSignOutEverywhere>,
    disable: ServerAction<AdminSetAccountDisabled>,
    block: ServerAction<AdminBlockPasskeys>,
    unblock: ServerAction<AdminUnblockPasskeys>,
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let actions = Actions {
        delete: ServerAction::new(),
        sign_out: ServerAction::new(),
        disable: ServerAction::new(),
        block: ServerAction::new(),
        unblock: ServerAction::new(),
    };
    let account = Resource::new(
        move || {
            (
                id(),
                actions.delete.version().get(),
                actions.sign_out.version().get(),
                actions.disable.version().get(),
                actions.block.version().get(),
                actions.unblock.version().get(),
            )
        },
        |(id, ..)| admin_account(id),
    );
    view! {
        <Title text="Account" />
        <Console current=Page::AdminAccounts>
            <p class="muted"><a href=Page::AdminAccounts.path()>"← Accounts"</a></p>
            <Loaded resource=account view=move |account: AccountDetail| {
                view! { <Account account actions /> }
            } />
        </Console>
    }
}

#[component]
fn Account(account: AccountDetail, actions: Actions) -> impl IntoView {
    let status = if account.disabled {
        "Disabled"
    } else {
        "Active"
    };
    let id = account.id.clone();
    let id_for_sign_out = id.clone();
    view! {
        <Title text=account.email.clone() />
        <h1>{account.email.clone()}</h1>
        <p class="account-status">
            "Status: " <strong class=if account.disabled { "bad" } else { "good" }>{status}</strong>
            {account.passkeys_blocked.clone().map(|until| view! {
                " · Passkeys blocked " {until}
            })}
        </p>
        <section class="panel">
            <h2>"Passkeys"</h2>
            <Passkeys account_id=id.clone() passkeys=account.passkeys.clone() action=actions.delete />
            <Block account_id=id.clone() blocked=account.passkeys_blocked.clone() actions />
        </section>
        <section class="panel">
            <h2>"Passkey decisions"</h2>
            <Decisions decisions=account.decisions.clone() />
        </section>
        <section class="panel">
            <h2>"Sessions"</h2>
            <Sessions sessions=account.sessions.clone() />
            <ActionForm action=actions.sign_out>
                <input type="hidden" name="account_id" value=id_for_sign_out.clone() />
                <FormError result=actions.sign_out.value().into() />
                <button type="submit" class="secondary">"Sign out everywhere"</button>
            </ActionForm>
        </section>
        <section class="panel">
            <h2>"Account"</h2>
            <Disable account_id=id.clone() disabled=account.disabled can=account.can_disable action=actions.disable />
        </section>
        <section class="panel">
            <h2>"What happened"</h2>
            <Timeline events=account.timeline />
        </section>
    }
}

#[component]
fn Passkeys(
    account_id: String,
    passkeys: Option<Vec<PasskeyRow>>,
    action: ServerAction<AdminDeletePasskey>,
) -> impl IntoView {
    let query = use_query_map();
    let confirming = move || query.read().get("confirm");
    let Some(passkeys) = passkeys else {
        return view! {
            <p role="alert">"The passkey service cannot be reached: passkeys cannot be shown now."</p>
        }
        .into_any();
    };
    if passkeys.is_empty() {
        return view! { <p class="muted">"No passkeys."</p> }.into_any();
    }
    let back = Page::admin_account(&account_id);
    let rows = passkeys
        .into_iter()
        .map(|passkey| {
            let (account_id, back) = (account_id.clone(), back.clone());
            let passkey_id = passkey.id.clone();
            let confirm_this = {
                let passkey_id = passkey_id.clone();
                move || confirming().as_deref() == Some(passkey_id.as_str())
            };
            let ask_or_confirm = move || {
                let (account_id, passkey_id, back) =
                    (account_id.clone(), passkey_id.clone(), back.clone());
                if confirm_this() {
                    view! {
                        <ActionForm action attr:class="confirm-inline">
                            <input type="hidden" name="account_id" value=account_id.clone() />
                            <input type="hidden" name="passkey_id" value=passkey_id.clone() />
                            <button type="submit" class="danger" autofocus="">"Delete passkey"</button>
                            <a href=back.clone()>"Cancel"</a>
                        </ActionForm>
                    }
                    .into_any()
                } else {
                    view! {
                        // A plain form: the router's own would rewrite the address.
                        <form method="get" action=back.clone()>
                            <input type="hidden" name="confirm" value=passkey_id.clone() />
                            <button type="submit" class="secondary">"Delete"</button>
                        </form>
                    }
                    .into_any()
                }
            };
            view! {
                <tr>
                    <th scope="row">
                        <span class="provider-name">
                            <ProviderIcon light=passkey.icon_light dark=passkey.icon_dark />
                            {passkey.provider}
                        </span>
                    </th>
                    <td data-label="Created">{passkey.created}</td>
                    <td data-label="Last used">{passkey.last_used}</td>
                    <td data-label="Synced">{if passkey.synced { "Yes" } else { "No" }}</td>
                    <td>{ask_or_confirm}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns={&["Provider", "Created", "Last used", "Synced", ""]} class="cards">{rows}</DataTable>
        <FormError result=action.value().into() />
    }
    .into_any()
}

#[component]
fn Block(account_id: String, blocked: Option<String>, actions: Actions) -> impl IntoView {
    match blocked {
        Some(_) => view! {
            <ActionForm action=actions.unblock>
                <input type="hidden" name="account_id" value=account_id />
                <FormError result=actions.unblock.value().into() />
                <button type="submit" class="secondary">"Unblock passkeys"</button>
            </ActionForm>
        }
        .into_any(),
        None => view! {
            <ActionForm action=actions.block attr:class="inline-form">
                <input type="hidden" name="account_id" value=account_id />
                <label for="block-days">"Block for (days, empty: until unblocked)"</label>
                <input id="block-days" name="days" type="number" min="1" max="3650" inputmode="numeric" />
                <FormError result=actions.block.value().into() />
                <button type="submit" class="secondary">"Block passkeys"</button>
            </ActionForm>
        }
        .into_any(),
    }
}

#[component]
fn Sessions(sessions: Vec<SessionRow>) -> impl IntoView {
    if sessions.is_empty() {
        return view! { <p class="muted">"No open sessions."</p> }.into_any();
    }
    let rows = sessions
        .into_iter()
        .map(|s| {
            view! {
                <tr>
                    <th scope="row">{s.browser}</th>
                    <td data-label="OS">{s.os}</td>
                    <td data-label="IP">{s.ip}</td>
                    <td data-label="Signed in with">{s.method}</td>
                    <td data-label="Started">{s.started}</td>
                    <td data-label="Last seen">{s.last_seen}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns={&["Browser", "OS", "IP", "Signed in with", "Started", "Last seen"]} class="cards">{rows}</DataTable>
    }
    .into_any()
}

#[component]
fn Disable(
    account_id: String,
    disabled: bool,
    can: bool,
    action: ServerAction<AdminSetAccountDisabled>,
) -> impl IntoView {
    if !can {
        return view! {
            <p class="muted">
                "This account belongs to an OpenID provider: disable the person there."
            </p>
        }
        .into_any();
    }
    let (value, label, class) = if disabled {
        ("false", "Enable account", "secondary")
    } else {
        ("true", "Disable account", "danger")
    };
    view! {
        <ActionForm action>
            <input type="hidden" name="account_id" value=account_id />
            <input type="hidden" name="disabled" value=value />
            <FormError result=action.value().into() />
            <button type="submit" class=class>{label}</button>
        </ActionForm>
    }
    .into_any()
}

/// Why passkeys were (or were not) offered to this account lately, newest first.
#[component]
fn Decisions(decisions: Vec<DecisionRow>) -> impl IntoView {
    if decisions.is_empty() {
        return view! { <p class="muted">"No decision recorded yet."</p> }.into_any();
    }
    view! {
        <ul class="decisions" aria-label="Passkey decisions">
            {decisions
                .into_iter()
                .map(|row| {
                    view! {
                        <li>
                            <span class="decision">{row.decision}</span>
                            <span class="why">
                                "because " {row.reason} " "
                                <code>{row.reason_code}</code>
                            </span>
                            <span class="muted">{row.time}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// The account's events, newest first.
#[component]
fn Timeline(events: Vec<EventRow>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="muted">"Nothing recorded yet."</p> }.into_any();
    }
    view! { <EventTable events /> }.into_any()
}
