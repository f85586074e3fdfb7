//! Registry credentials stored by `docker login`, handed in by the caller: the library reads no
//! files of the user's own; the `kiln` binary reads the docker CLI's `config.json` and passes
//! its `auths` here. A template's `login_*` options win over them.

use std::collections::BTreeMap;

/// One registry's stored credentials.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoredAuth {
    /// The user name.
    pub username: Option<String>,
    /// The password (or access token).
    pub password: Option<String>,
    /// An identity token (OAuth refresh token) in place of a password.
    pub identity_token: Option<String>,
}

impl std::fmt::Debug for StoredAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAuth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<sensitive>"))
            .field(
                "identity_token",
                &self.identity_token.as_ref().map(|_| "<sensitive>"),
            )
            .finish()
    }
}

/// What the docker builder and post-processors are given by their caller.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Stored credentials by registry host (`docker.io`, `registry.example.com:5000`).
    pub auths: BTreeMap<String, StoredAuth>,
}

impl Settings {
    /// Reads the `auths` of a docker CLI `config.json` (`{"auths": {"SERVER": {"auth":
    /// base64("user:password")}}}`, or `username`/`password`/`identitytoken` fields). Entries
    /// kept by a credential helper (`credsStore`, `credHelpers`) are not in the file and are not
    /// read.
    ///
    /// # Errors
    /// When the text is not such a JSON document.
    pub fn from_docker_config(text: &str) -> Result<Settings, String> {
        use base64::Engine as _;
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let mut auths = BTreeMap::new();
        let Some(map) = v.get("auths").and_then(|a| a.as_object()) else {
            return Ok(Settings::default());
        };
        for (server, entry) in map {
            let s = |k: &str| {
                entry
                    .get(k)
                    .and_then(|v| v.as_str())
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            };
            let mut a = StoredAuth {
                username: s("username"),
                password: s("password"),
                identity_token: s("identitytoken"),
            };
            if let Some(encoded) = s("auth") {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|e| format!("auths.{server}.auth: not base64: {e}"))?;
                let decoded = String::from_utf8_lossy(&decoded).to_string();
                if let Some((u, p)) = decoded.split_once(':') {
                    a.username = Some(u.to_string());
                    a.password = Some(p.to_string());
                }
            }
            if a.username.is_some() || a.identity_token.is_some() {
                auths.insert(crate::server_host(server).to_string(), a);
            }
        }
        Ok(Settings { auths })
    }

    /// The stored credentials for `image`'s registry, as the engine takes them.
    pub(crate) fn credentials_for(&self, image: &str) -> Option<bollard::auth::DockerCredentials> {
        let host = crate::registry_of(image);
        let a = self.auths.get(host)?;
        Some(bollard::auth::DockerCredentials {
            username: a.username.clone(),
            password: a.password.clone(),
            identitytoken: a.identity_token.clone(),
            serveraddress: Some(host.to_string()),
            ..Default::default()
        })
    }

    /// The secrets in it, for masking.
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &str> {
        self.auths
            .values()
            .flat_map(|a| [a.password.as_deref(), a.identity_token.as_deref()])
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_logins_config_is_read_by_registry_host() {
        let s = Settings::from_docker_config(
            r#"{"auths": {
                "https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="},
                "127.0.0.1:5000": {"username": "u", "password": "p"},
                "empty.example.com": {}
            }, "credsStore": "desktop"}"#,
        )
        .unwrap();
        assert_eq!(
            s.auths.keys().collect::<Vec<_>>(),
            ["127.0.0.1:5000", "docker.io"]
        );
        let hub = s.credentials_for("debian:12").unwrap();
        assert_eq!(
            (hub.username.as_deref(), hub.password.as_deref()),
            (Some("hub"), Some("secret"))
        );
        assert!(s.credentials_for("127.0.0.1:5000/app:1").is_some());
        assert!(s.credentials_for("other.example.com/app").is_none());
        assert!(!format!("{s:?}").contains("secret"));
        assert_eq!(Settings::from_docker_config("{}").unwrap().auths.len(), 0);
        assert!(Settings::from_docker_config("nope").is_err());
    }
}
