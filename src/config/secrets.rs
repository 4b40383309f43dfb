//! Secrets: where they come from (the environment, or a file it names; generated once under
//! the data folder for a local http site only), the type that keeps them out of logs and
//! responses, and the one writer of private files.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::keys::{self, Setting};
use super::source::Source;
use super::ConfigError;

/// A secret value: no `Serialize`, and `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

const MIN_SECRET_LEN: usize = 32;

#[derive(Debug, Clone)]
pub struct Secrets {
    pub session_secret: Secret,
    pub connect_project_id: String,
    pub connect_api_secret: Secret,
    /// PEM file with the key that signs passkey data; generated there if missing (local only).
    pub signing_key_file: PathBuf,
}

impl Secrets {
    /// Reads every secret. `local_site`: a local http site, where missing secrets are
    /// generated under `data_dir`; in production a missing secret must stop the server
    /// instead of silently creating a new one. `remote_connect`: the passkey service runs
    /// elsewhere and has its own credentials, which cannot be invented here.
    pub(super) fn read(
        source: &Source,
        data_dir: &Path,
        local_site: bool,
        remote_connect: bool,
    ) -> Result<Self, ConfigError> {
        let local = LocalSecrets {
            data_dir,
            allowed: local_site,
        };
        let session_secret = secret(source, &keys::SESSION_SECRET, &local, false)?;
        if session_secret.expose().len() < MIN_SECRET_LEN {
            return Err(ConfigError::new(
                keys::SESSION_SECRET.key,
                format!("must be at least {MIN_SECRET_LEN} characters"),
            ));
        }
        let connect_api_secret = secret(source, &keys::CONNECT_API_SECRET, &local, remote_connect)?;
        let connect_project_id = match source.optional(&keys::CONNECT_PROJECT_ID) {
            Some(id) => id,
            None if remote_connect => {
                return Err(ConfigError::new(
                    keys::CONNECT_PROJECT_ID.key,
                    "required when LATCHKEY_CONNECT_URL points at a separate passkey service",
                ))
            }
            None if !local.allowed => {
                return Err(ConfigError::new(
                    keys::CONNECT_PROJECT_ID.key,
                    "required when the public origin is https",
                ))
            }
            None => local.load_or_create(keys::CONNECT_PROJECT_ID.key, || {
                format!("pro-{}", crate::random::digits(12))
            })?,
        };
        let file_var = format!("{}_FILE", keys::SIGNING_KEY.env_name());
        let signing_key_file = match source.env(&file_var) {
            Some(path) => PathBuf::from(path),
            None if !local.allowed => {
                return Err(ConfigError {
                    key: file_var,
                    message: "required when the public origin is https".into(),
                })
            }
            None => data_dir.join("secrets").join("signing-key.pem"),
        };
        Ok(Self {
            session_secret,
            connect_project_id,
            connect_api_secret,
            signing_key_file,
        })
    }
}

/// A secret that may be absent (never generated): `LATCHKEY_X` or the file `LATCHKEY_X_FILE`.
pub(super) fn optional_secret(
    source: &Source,
    setting: &Setting,
) -> Result<Option<Secret>, ConfigError> {
    let name = setting.env_name();
    if source.env(&name).is_none() && source.env(&format!("{name}_FILE")).is_none() {
        return Ok(None);
    }
    let never = LocalSecrets {
        data_dir: Path::new(""),
        allowed: false,
    };
    secret(source, setting, &never, true).map(Some)
}

/// A secret from `LATCHKEY_X` or the file named by `LATCHKEY_X_FILE`; generated locally when
/// allowed and not `required`.
fn secret(
    source: &Source,
    setting: &Setting,
    local: &LocalSecrets,
    required: bool,
) -> Result<Secret, ConfigError> {
    let name = setting.env_name();
    if let Some(value) = source.env(&name) {
        return Ok(Secret(value.to_string()));
    }
    let file_var = format!("{name}_FILE");
    if let Some(path) = source.env(&file_var) {
        let value = std::fs::read_to_string(path).map_err(|err| ConfigError {
            key: file_var.clone(),
            message: format!("cannot read {path}: {err}"),
        })?;
        let value = value.trim().to_string();
        if value.is_empty() {
            return Err(ConfigError {
                key: file_var,
                message: format!("{path} is empty"),
            });
        }
        return Ok(Secret(value));
    }
    if required {
        return Err(ConfigError::new(
            setting.key,
            format!("required (set {name} or {file_var})"),
        ));
    }
    if !local.allowed {
        return Err(ConfigError::new(
            setting.key,
            format!("required when the public origin is https (set {name} or {file_var})"),
        ));
    }
    local
        .load_or_create(setting.key, || crate::random::token(32))
        .map(Secret)
}

/// Secrets generated once for a local site and kept under `data/secrets/` (mode 0600).
struct LocalSecrets<'a> {
    data_dir: &'a Path,
    allowed: bool,
}

impl LocalSecrets<'_> {
    /// The value kept under `key`, or a new one from `generate`, written once. When two
    /// processes start together, the one that loses the race reads the winner's value.
    fn load_or_create(
        &self,
        key: &str,
        generate: impl FnOnce() -> String,
    ) -> Result<String, ConfigError> {
        let path = self.data_dir.join("secrets").join(key);
        let read = |path: &Path| match std::fs::read_to_string(path) {
            Ok(value) => Ok(Some(value.trim().to_string()).filter(|v| !v.is_empty())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(ConfigError::new(
                key,
                format!("cannot read {}: {err}", path.display()),
            )),
        };
        if let Some(value) = read(&path)? {
            return Ok(value);
        }
        let value = generate();
        match write_new_private_file(&path, &value) {
            Ok(()) => Ok(value),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => read(&path)?
                .ok_or_else(|| ConfigError::new(key, format!("{} is empty", path.display()))),
            Err(err) => Err(ConfigError::new(
                key,
                format!("cannot write {}: {err}", path.display()),
            )),
        }
    }
}

/// Creates `path` with `contents`, readable by the owner only (its folder created with mode
/// 0700); fails with `AlreadyExists` rather than replace a file that is there.
///
/// Written under a unique temporary name and then linked in, so the final name appears
/// complete or not at all, and two processes racing cannot overwrite each other.
pub fn write_new_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let tmp = path.with_extension(format!("{}.tmp", crate::random::digits(8)));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_written_once_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets").join("key");
        write_new_private_file(&path, "first").unwrap();
        let err = write_new_private_file(&path, "second").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first");
        let mode = |p: &Path| {
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions())
                & 0o777
        };
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("secrets")), 0o700);
        // No temporary files are left behind.
        assert_eq!(
            std::fs::read_dir(dir.path().join("secrets"))
                .unwrap()
                .count(),
            1
        );
    }

    #[test]
    fn a_generated_secret_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let local = LocalSecrets {
            data_dir: dir.path(),
            allowed: true,
        };
        let first = local.load_or_create("k", || "one".into()).unwrap();
        let second = local.load_or_create("k", || "two".into()).unwrap();
        assert_eq!((first.as_str(), second.as_str()), ("one", "one"));
    }

    #[test]
    fn debug_never_prints_a_secret() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(…)");
    }
}
