//! Temporary key pairs for builders that create machines.

use russh::keys::ssh_key::private::RsaKeypair;
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

/// Generates a key pair of `kind` (`ed25519`, the fast default, or `rsa` / `ecdsa`); an RSA
/// key has `bits` bits (Packer's `temporary_key_pair_bits`, 4096 when unset, at least 1024).
///
/// # Errors
/// An unknown kind, too few bits, or a generation failure.
pub fn generate(kind: &str, bits: Option<u32>, comment: &str) -> Result<KeyPair, String> {
    let mut rng = rand::rng();
    let mut key = match kind {
        "" | "ed25519" => PrivateKey::random(&mut rng, Algorithm::Ed25519),
        "ecdsa" => PrivateKey::random(
            &mut rng,
            Algorithm::Ecdsa {
                curve: russh::keys::ssh_key::EcdsaCurve::NistP256,
            },
        ),
        "rsa" => {
            let bits = bits.unwrap_or(4096);
            if bits < 1024 {
                return Err(format!(
                    "temporary_key_pair_bits {bits} is too small for an RSA key: the minimum is 1024"
                ));
            }
            RsaKeypair::random(&mut rng, bits as usize).map(PrivateKey::from)
        }
        other => {
            return Err(format!(
                "unknown temporary_key_pair_type {other:?}; use ed25519, ecdsa or rsa"
            ))
        }
    }
    .map_err(|e| format!("generating a {kind} key: {e}"))?;
    key.set_comment(comment);
    Ok(KeyPair {
        private_openssh: key
            .to_openssh(LineEnding::LF)
            .map_err(|e| e.to_string())?
            .to_string(),
        public_openssh: key.public_key().to_openssh().map_err(|e| e.to_string())?,
    })
}

#[cfg(test)]
mod tests {
    use super::generate;
    use russh::keys::ssh_key::PublicKey;

    fn rsa_bits(public: &str) -> u32 {
        let key = PublicKey::from_openssh(public).unwrap();
        key.key_data().rsa().unwrap().key_size()
    }

    #[test]
    fn an_rsa_key_has_the_bits_asked_for_and_4096_by_default() {
        assert_eq!(
            rsa_bits(&generate("rsa", Some(1024), "t").unwrap().public_openssh),
            1024
        );
        assert_eq!(
            rsa_bits(&generate("rsa", None, "t").unwrap().public_openssh),
            4096
        );
    }

    #[test]
    fn too_few_bits_or_an_unknown_type_are_errors() {
        assert_eq!(
            generate("rsa", Some(512), "t").unwrap_err(),
            "temporary_key_pair_bits 512 is too small for an RSA key: the minimum is 1024"
        );
        assert_eq!(
            generate("dsa", None, "t").unwrap_err(),
            "unknown temporary_key_pair_type \"dsa\"; use ed25519, ecdsa or rsa"
        );
        let ed = generate("", None, "c").unwrap();
        assert!(
            ed.public_openssh.starts_with("ssh-ed25519 "),
            "{}",
            ed.public_openssh
        );
        assert!(ed.public_openssh.ends_with(" c"));
    }
}
