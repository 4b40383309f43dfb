//! The identity provider's settings: one arm per kind of IdP.

use url::Url;

use super::keys::{
    IDP, IDP_CLIENT_ID, IDP_CLIENT_SECRET, IDP_ISSUER, IDP_NAME, IDP_REGISTRATION_URL,
    IDP_REVERIFY_DAYS, IDP_SCOPES,
};
use super::secrets::{optional_secret, Secret};
use super::source::Source;
use super::validate::{http_url, UrlRules};
use super::ConfigError;
use crate::routes::{Endpoint, Page};

/// Which identity provider holds the users, with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdpSettings {
    /// Email + password in this app's database (the embedded default).
    Builtin,
    /// Any OpenID Connect provider (Keycloak, Auth0, Cognito, ...).
    Oidc(Box<OidcSettings>),
}

/// An external OpenID Connect provider (`idp = "oidc"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// Exactly as the provider writes `issuer` in its discovery document.
    pub issuer: String,
    pub client_id: String,
    /// None for a public client (PKCE alone).
    pub client_secret: Option<Secret>,
    /// Always starts with `openid`.
    pub scopes: Vec<String>,
    /// What the pages call the provider ("You'll enter your password at <name>").
    pub display_name: String,
    /// The provider's own sign-up page, linked from `/signup`.
    pub registration_url: Option<Url>,
    /// `<public origin>/auth/callback`: register it at the provider.
    pub redirect_uri: Url,
    /// `<public origin>/login`: where the provider's logout sends the browser back.
    pub post_logout_redirect_uri: Url,
    /// A passkey login goes on to the provider when the last login there is older than this
    /// (`None`: never), so the provider's own account state is checked now and then.
    pub reverify_after: Option<std::time::Duration>,
}

impl IdpSettings {
    pub(super) fn read(source: &Source, public_origin: &Url) -> Result<Self, ConfigError> {
        match source.text(&IDP).as_str() {
            "builtin" => Ok(Self::Builtin),
            "oidc" => Ok(Self::Oidc(Box::new(OidcSettings::read(
                source,
                public_origin,
            )?))),
            other => Err(ConfigError::new(
                IDP.key,
                format!("{other:?} is not an identity provider kind; use builtin or oidc"),
            )),
        }
    }
}

impl OidcSettings {
    fn read(source: &Source, public_origin: &Url) -> Result<Self, ConfigError> {
        let issuer = source.optional(&IDP_ISSUER).ok_or_else(|| {
            ConfigError::new(
                IDP_ISSUER.key,
                "required with idp = oidc (the provider's issuer URL, e.g. https://login.example.com/realms/acme)",
            )
        })?;
        let issuer_url = http_url(
            &IDP_ISSUER,
            &issuer,
            UrlRules {
                http_loopback_only: true,
                origin_only: false,
                bare: true,
            },
        )?;
        let client_id = source.optional(&IDP_CLIENT_ID).ok_or_else(|| {
            ConfigError::new(
                IDP_CLIENT_ID.key,
                "required with idp = oidc (the client id registered at the provider)",
            )
        })?;
        let client_secret = optional_secret(source, &IDP_CLIENT_SECRET)?;
        let mut scopes = vec!["openid".to_string()];
        for scope in source.text(&IDP_SCOPES).split_whitespace() {
            if !scope
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
            {
                return Err(ConfigError::new(
                    IDP_SCOPES.key,
                    format!("{scope:?} is not a valid scope name"),
                ));
            }
            if !scopes.iter().any(|known| known == scope) {
                scopes.push(scope.to_string());
            }
        }
        let registration_url = source
            .optional(&IDP_REGISTRATION_URL)
            .map(|value| http_url(&IDP_REGISTRATION_URL, &value, UrlRules::ANY))
            .transpose()?;
        let display_name = source.optional(&IDP_NAME).unwrap_or_else(|| {
            issuer_url
                .host_str()
                .unwrap_or("your sign-in service")
                .into()
        });
        let join = |path: &str| {
            public_origin
                .join(path)
                .map_err(|err| ConfigError::new("public-origin", err.to_string()))
        };
        Ok(Self {
            issuer,
            client_id,
            client_secret,
            scopes,
            display_name,
            registration_url,
            redirect_uri: join(Endpoint::OidcCallback.path())?,
            post_logout_redirect_uri: join(Page::Login.path())?,
            reverify_after: match source.number(&IDP_REVERIFY_DAYS)? {
                0 => None,
                days => Some(std::time::Duration::from_secs(days * 86_400)),
            },
        })
    }
}
