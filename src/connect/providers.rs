//! Passkey providers by AAGUID: name and light and dark icon, from the community list of
//! passkey provider AAGUIDs shipped in `resources/passkey-providers/` (see its `SOURCE.md`,
//! and `scripts/refresh-passkey-providers.sh` to update it), plus an operator's own file in
//! the same format (`passkey-providers-file`), whose entries win.
//!
//! Server only: the icons are data URIs that travel to the browser with the passkeys that use
//! them (`aaguidDetails`), never inside the wasm. An AAGUID is what an authenticator says it
//! is (Latchkey asks for no attestation): good for naming a passkey, not proof of anything.

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use serde::Deserialize;
use webauthn_rs::prelude::Uuid;

use crate::connect::aaguid::UNKNOWN_PROVIDER;
use crate::connect::api::AaguidDetails;

/// The community list as shipped.
const SHIPPED_JSON: &str = include_str!("../../resources/passkey-providers/aaguid.json");

/// The only icons kept: SVG as a base64 data URI, as the list's schema requires. Anything
/// else (a URL, another type) is dropped, so a file cannot make pages load from elsewhere.
const ICON_PREFIX: &str = "data:image/svg+xml;base64,";

/// One provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    /// For light backgrounds (data URI), if the list has one.
    pub icon_light: Option<String>,
    /// For dark backgrounds (data URI), if the list has one.
    pub icon_dark: Option<String>,
}

/// One entry as the list's JSON has it.
#[derive(Deserialize)]
struct Entry {
    name: String,
    icon_light: Option<String>,
    icon_dark: Option<String>,
}

/// Why a providers file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProvidersFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a passkey provider list ({{\"<aaguid>\": {{\"name\": …}}}}): {message}"
    )]
    Format { path: String, message: String },
}

/// The providers known to this instance.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderDirectory {
    by_aaguid: HashMap<Uuid, Provider>,
}

impl std::fmt::Debug for ProviderDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProviderDirectory({} providers)", self.by_aaguid.len())
    }
}

static SHIPPED: LazyLock<HashMap<Uuid, Provider>> = LazyLock::new(|| {
    // The shipped file is checked by a test; a broken one would name nobody, not stop us.
    parse(SHIPPED_JSON).unwrap_or_else(|err| {
        tracing::error!(%err, "the shipped passkey provider list does not parse");
        HashMap::new()
    })
});

/// `{"<aaguid>": {"name": …, "icon_light": …, "icon_dark": …}}` → providers.
fn parse(json: &str) -> Result<HashMap<Uuid, Provider>, String> {
    let entries: HashMap<String, Entry> =
        serde_json::from_str(json).map_err(|err| err.to_string())?;
    let icon = |icon: Option<String>| icon.filter(|icon| icon.starts_with(ICON_PREFIX));
    entries
        .into_iter()
        .map(|(aaguid, entry)| {
            let id =
                Uuid::parse_str(&aaguid).map_err(|_| format!("{aaguid:?} is not an AAGUID"))?;
            let name = entry.name.trim().to_string();
            if name.is_empty() {
                return Err(format!("{aaguid} has an empty name"));
            }
            Ok((
                id,
                Provider {
                    name,
                    icon_light: icon(entry.icon_light),
                    icon_dark: icon(entry.icon_dark),
                },
            ))
        })
        .collect()
}

impl Default for ProviderDirectory {
    fn default() -> Self {
        Self::shipped()
    }
}

impl ProviderDirectory {
    /// The shipped community list.
    pub fn shipped() -> Self {
        Self {
            by_aaguid: SHIPPED.clone(),
        }
    }

    /// The shipped list with the entries of `path` added (they win over shipped ones).
    pub fn with_file(path: &Path) -> Result<Self, ProvidersFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ProvidersFileError::Read {
            path: shown.clone(),
            source,
        })?;
        let extra = parse(&text).map_err(|message| ProvidersFileError::Format {
            path: shown,
            message,
        })?;
        let mut directory = Self::shipped();
        directory.by_aaguid.extend(extra);
        Ok(directory)
    }

    pub fn len(&self) -> usize {
        self.by_aaguid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_aaguid.is_empty()
    }

    /// The provider behind an AAGUID in its hyphenated form (any case).
    pub fn get(&self, aaguid: &str) -> Option<&Provider> {
        Uuid::parse_str(aaguid.trim())
            .ok()
            .and_then(|id| self.by_aaguid.get(&id))
    }

    pub fn name(&self, aaguid: &str) -> Option<&str> {
        self.get(aaguid).map(|provider| provider.name.as_str())
    }

    /// What the APIs say about a passkey's provider: its name and icons, or
    /// [`UNKNOWN_PROVIDER`] with no icons (the page then shows a neutral one).
    pub fn details(&self, aaguid: &str) -> AaguidDetails {
        match self.get(aaguid) {
            Some(provider) => AaguidDetails {
                name: provider.name.clone(),
                icon_light: provider.icon_light.clone().unwrap_or_default(),
                icon_dark: provider
                    .icon_dark
                    .clone()
                    .or_else(|| provider.icon_light.clone())
                    .unwrap_or_default(),
            },
            None => AaguidDetails {
                name: UNKNOWN_PROVIDER.to_string(),
                icon_light: String::new(),
                icon_dark: String::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOGLE: &str = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4";

    #[test]
    fn the_shipped_list_parses_whole_with_names_and_svg_icons() {
        let entries: HashMap<String, serde_json::Value> =
            serde_json::from_str(SHIPPED_JSON).unwrap();
        let shipped = ProviderDirectory::shipped();
        assert!(shipped.len() >= 40, "{}", shipped.len());
        assert_eq!(shipped.len(), entries.len(), "every entry is kept");
        let google = shipped.get(&GOOGLE.to_uppercase()).unwrap();
        assert_eq!(google.name, "Google Password Manager");
        assert!(google
            .icon_light
            .as_deref()
            .unwrap()
            .starts_with(ICON_PREFIX));
        assert!(google
            .icon_dark
            .as_deref()
            .unwrap()
            .starts_with(ICON_PREFIX));
        assert_eq!(
            shipped.name("08987058-cadc-4b81-b6e1-30de50dcbe96"),
            Some("Windows Hello")
        );
    }

    #[test]
    fn unknown_providers_are_a_passkey_without_icons() {
        let shipped = ProviderDirectory::shipped();
        for unknown in ["00000000-0000-0000-0000-000000000000", "not an aaguid", ""] {
            assert_eq!(shipped.name(unknown), None);
            let details = shipped.details(unknown);
            assert_eq!(details.name, "Passkey");
            assert!(details.icon_light.is_empty() && details.icon_dark.is_empty());
        }
        let google = shipped.details(GOOGLE);
        assert_eq!(google.name, "Google Password Manager");
        assert!(google.icon_dark.starts_with(ICON_PREFIX));
    }

    #[test]
    fn an_operators_file_adds_and_overrides_entries_and_keeps_only_svg_data_icons() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("providers.json");
        let svg = format!("{ICON_PREFIX}PHN2Zy8+");
        std::fs::write(
            &path,
            serde_json::json!({
                "01020304-0506-0708-0102-030405060708": { "name": "Acme Keys", "icon_light": svg },
                GOOGLE: { "name": "Google (ours)", "icon_light": "https://evil.example/x.svg",
                          "icon_dark": "data:text/html;base64,PHNjcmlwdD4=" },
            })
            .to_string(),
        )
        .unwrap();
        let directory = ProviderDirectory::with_file(&path).unwrap();
        assert_eq!(directory.len(), ProviderDirectory::shipped().len() + 1);
        let acme = directory.details("01020304-0506-0708-0102-030405060708");
        assert_eq!(acme.name, "Acme Keys");
        assert_eq!(acme.icon_light, svg);
        assert_eq!(
            acme.icon_dark, svg,
            "the light icon stands in for a missing dark one"
        );
        let google = directory.get(GOOGLE).unwrap();
        assert_eq!(google.name, "Google (ours)");
        assert_eq!(
            (google.icon_light.as_ref(), google.icon_dark.as_ref()),
            (None, None)
        );
    }

    #[test]
    fn a_broken_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let err = ProviderDirectory::with_file(&missing).unwrap_err();
        assert!(err.to_string().starts_with("cannot read"), "{err}");
        for (text, says) in [
            ("[]", "is not a passkey provider list"),
            (r#"{"nope": {"name": "X"}}"#, "\"nope\" is not an AAGUID"),
            (
                r#"{"01020304-0506-0708-0102-030405060708": {"name": " "}}"#,
                "empty name",
            ),
        ] {
            let path = dir.path().join("bad.json");
            std::fs::write(&path, text).unwrap();
            let err = ProviderDirectory::with_file(&path).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
