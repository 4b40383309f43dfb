//! The Settings page against the run-time settings ([`crate::live_settings`]): the form as
//! typed, each field parsed and checked with its own message, a save that every instance
//! follows within seconds, and the change in the audit log.

use super::access::OperatorRequest;
use super::model::{SettingsForm, SettingsSaved};
use crate::error::AppError;
use crate::events::{Event, EventType};
use crate::live_settings::{LiveSettingsError, LiveValues};
use crate::server::context::record;

/// The form showing the values in effect.
pub fn form_of(values: &LiveValues) -> SettingsForm {
    SettingsForm {
        passkeys_enabled: values.passkeys_enabled,
        login_rollout_percent: values.login_rollout_percent.to_string(),
        append_rollout_percent: values.append_rollout_percent.to_string(),
        append_snooze_hours: values.append_snooze_hours.to_string(),
        offer_again_after_days: values.offer_again_after_days.to_string(),
    }
}

/// The form's values, or every field's problem.
pub fn parse(form: &SettingsForm) -> Result<LiveValues, Vec<(String, String)>> {
    let mut problems = Vec::new();
    let mut number = |field: &str, typed: &str| -> u32 {
        match typed.trim().parse::<u32>() {
            Ok(value) => value,
            Err(_) => {
                problems.push((field.to_string(), "Enter a whole number.".to_string()));
                0
            }
        }
    };
    let login = number("login_rollout_percent", &form.login_rollout_percent);
    let append = number("append_rollout_percent", &form.append_rollout_percent);
    let snooze = number("append_snooze_hours", &form.append_snooze_hours);
    let again = number("offer_again_after_days", &form.offer_again_after_days);
    let mut percent = |field: &str, value: u32| -> u8 {
        match u8::try_from(value) {
            Ok(value) if value <= 100 => value,
            _ => {
                problems.push((
                    field.to_string(),
                    format!("Must be 0 to 100 (got {value})."),
                ));
                0
            }
        }
    };
    let login = percent("login_rollout_percent", login);
    let append = percent("append_rollout_percent", append);
    let values = LiveValues {
        passkeys_enabled: form.passkeys_enabled,
        login_rollout_percent: login,
        append_rollout_percent: append,
        append_snooze_hours: snooze,
        offer_again_after_days: again,
    };
    // Range problems of fields that parsed (a field has one message at most).
    for problem in values.problems() {
        if !problems.iter().any(|(field, _)| *field == problem.field) {
            problems.push((problem.field, sentence(&problem.message)));
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(problems)
    }
}

/// "must be 0 to 100 (got 250)" → "Must be 0 to 100 (got 250)."
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// Saves the form; records `settings.changed` with the operator and each `old → new`.
pub async fn save(op: &OperatorRequest, form: &SettingsForm) -> Result<SettingsSaved, AppError> {
    let values = match parse(form) {
        Ok(values) => values,
        Err(problems) => {
            return Ok(SettingsSaved {
                problems,
                changes: Vec::new(),
            })
        }
    };
    let old = match op.app.live.save(values).await {
        Ok(old) => old,
        Err(LiveSettingsError::Invalid(problems)) => {
            return Ok(SettingsSaved {
                problems: problems
                    .into_iter()
                    .map(|p| (p.field, sentence(&p.message)))
                    .collect(),
                changes: Vec::new(),
            })
        }
        Err(LiveSettingsError::Store(err)) => {
            return Err(AppError::internal("saving the settings", err))
        }
    };
    let changes = values.changes_from(&old);
    if !changes.is_empty() {
        let event = Event::new(EventType::SettingsChanged)
            .with_actor(op.actor())
            .with_detail(&changes.join("; "));
        record(&op.app, event).await;
    }
    Ok(SettingsSaved {
        problems: Vec::new(),
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(login: &str, append: &str, snooze: &str, again: &str) -> SettingsForm {
        SettingsForm {
            passkeys_enabled: true,
            login_rollout_percent: login.into(),
            append_rollout_percent: append.into(),
            append_snooze_hours: snooze.into(),
            offer_again_after_days: again.into(),
        }
    }

    #[test]
    fn each_field_gets_its_own_message() {
        let problems = parse(&form("250", "x", "9999999", "-1")).unwrap_err();
        let field = |name: &str| {
            problems
                .iter()
                .find(|(f, _)| f == name)
                .map(|(_, m)| m.as_str())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert_eq!(
            field("login_rollout_percent"),
            "Must be 0 to 100 (got 250)."
        );
        assert_eq!(field("append_rollout_percent"), "Enter a whole number.");
        assert!(field("append_snooze_hours").starts_with("Must be 0 to"));
        assert_eq!(field("offer_again_after_days"), "Enter a whole number.");
    }

    #[test]
    fn good_values_parse() {
        let values = parse(&form(" 40 ", "100", "24", "0")).unwrap();
        assert_eq!(values.login_rollout_percent, 40);
        assert_eq!(values.append_snooze_hours, 24);
        assert_eq!(form_of(&values).login_rollout_percent, "40");
    }
}
