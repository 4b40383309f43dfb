//! Where setting values come from: the `[latchkey]` table of `Leptos.toml`, overridden by
//! the environment. Defaults and ranges come from the settings table ([`super::keys`]).

use std::collections::HashMap;

use super::keys::{self, DefaultValue, Kind, Setting};
use super::ConfigError;

/// The merged view of the file table and the environment.
pub(super) struct Source {
    file: HashMap<String, String>,
    env: HashMap<String, String>,
}

impl Source {
    /// Reads the file's `[latchkey]` table: unknown keys and secrets are refused.
    pub fn new(file_text: &str, env: HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut file = HashMap::new();
        if !file_text.trim().is_empty() {
            let doc: toml::Table =
                file_text
                    .parse()
                    .map_err(|err: toml::de::Error| ConfigError {
                        key: "Leptos.toml".into(),
                        message: format!("not valid TOML: {}", err.message()),
                    })?;
            if let Some(table) = doc.get("latchkey") {
                let table = table.as_table().ok_or_else(|| ConfigError {
                    key: "Leptos.toml".into(),
                    message: "[latchkey] must be a table".into(),
                })?;
                for (key, value) in table {
                    match keys::find(key) {
                        Some(setting) if setting.is_secret() => {
                            return Err(ConfigError::new(
                                key,
                                "secrets are read only from the environment (or a file it names), never from Leptos.toml",
                            ))
                        }
                        Some(_) => {}
                        None => {
                            return Err(ConfigError {
                                key: format!("Leptos.toml [latchkey] {key}"),
                                message: "unknown setting".into(),
                            })
                        }
                    }
                    let value = match value {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Integer(i) => i.to_string(),
                        toml::Value::Boolean(b) => b.to_string(),
                        _ => return Err(ConfigError::new(key, "must be a string or a number")),
                    };
                    file.insert(key.clone(), value);
                }
            }
        }
        Ok(Self { file, env })
    }

    /// A raw environment variable (for names outside the table, such as `LEPTOS_SITE_ADDR`).
    pub fn env(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Environment first, then the file; empty values count as unset.
    pub fn optional(&self, setting: &Setting) -> Option<String> {
        self.env
            .get(&setting.env_name())
            .or_else(|| self.file.get(setting.key))
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
    }

    /// A text setting, or its default value (empty for unset and derived defaults: callers
    /// of those use [`Source::optional`]).
    pub fn text(&self, setting: &Setting) -> String {
        self.optional(setting)
            .unwrap_or_else(|| match setting.kind {
                Kind::Text(DefaultValue::Value(value)) => value.to_string(),
                _ => String::new(),
            })
    }

    pub fn number(&self, setting: &Setting) -> Result<u64, ConfigError> {
        let Kind::Number { default, min, max } = setting.kind else {
            return Err(ConfigError::new(setting.key, "is not a number setting"));
        };
        let Some(value) = self.optional(setting) else {
            return Ok(default);
        };
        match value.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ConfigError::new(
                setting.key,
                format!("{value:?} must be a whole number from {min} to {max}"),
            )),
        }
    }

    /// A percentage (a number setting whose range is within 0–100).
    pub fn percent(&self, setting: &Setting) -> Result<u8, ConfigError> {
        let value = self.number(setting)?;
        u8::try_from(value)
            .ok()
            .filter(|p| *p <= 100)
            .ok_or_else(|| ConfigError::new(setting.key, format!("{value} is not a percentage")))
    }

    pub fn flag(&self, setting: &Setting) -> Result<bool, ConfigError> {
        let Kind::Flag(default) = setting.kind else {
            return Err(ConfigError::new(setting.key, "is not an on/off setting"));
        };
        match self.optional(setting).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" || v == "1" => Ok(true),
            Some(v) if v == "false" || v == "0" => Ok(false),
            Some(v) => Err(ConfigError::new(
                setting.key,
                format!("{v:?} must be true or false"),
            )),
        }
    }
}
