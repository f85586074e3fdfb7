//! Temporary key pairs for builders that create machines.

use russh::keys::ssh_key::{Algorithm, LineEnding, PrivateKey};

/// A generated key pair in OpenSSH formats.
#[derive(Clone)]
pub struct KeyPair {
    /// The private key, OpenSSH PEM.
    pub private_openssh: String,
    /// The public key, one `authorized_keys` line.
    pub public_openssh: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("public_openssh", &self.public_openssh)
            .finish_non_exhaustive()
    }
}

/// Generates a key pair of `kind` (`ed25519`, the fast default, or `rsa` / `ecdsa`).
///
/// # Errors
/// An unknown kind or a generation failure.
pub fn generate(kind: &str, bits: Option<u32>, comment: &str) -> Result<KeyPair, String> {
    let mut rng = rand::rng();
    let alg = match kind {
        "" | "ed25519" => Algorithm::Ed25519,
        "ecdsa" => Algorithm::Ecdsa {
            curve: russh::keys::ssh_key::EcdsaCurve::NistP256,
        },
        "rsa" => {
            let _ = bits;
            Algorithm::Rsa { hash: None }
        }
        other => {
            return Err(format!(
                "unknown temporary_key_pair_type {other:?}; use ed25519, ecdsa or rsa"
            ))
        }
    };
    let mut key =
        PrivateKey::random(&mut rng, alg).map_err(|e| format!("generating a {kind} key: {e}"))?;
    key.set_comment(comment);
    Ok(KeyPair {
        private_openssh: key
            .to_openssh(LineEnding::LF)
            .map_err(|e| e.to_string())?
            .to_string(),
        public_openssh: key.public_key().to_openssh().map_err(|e| e.to_string())?,
    })
}
