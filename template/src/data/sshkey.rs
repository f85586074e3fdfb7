//! `data "sshkey"`: the community sshkey data source (ivoronin/sshkey). It makes an SSH key pair
//! once and keeps the private key in the cache directory, so that every later run (and every
//! build of the run) uses the same key: `ssh_private_key_<name>_<type>.pem`, an RSA key (2048
//! bits) as PKCS #1 PEM or an Ed25519 key as PKCS #8 PEM, mode 0600. Outputs `private_key_path`
//! (absolute) and `public_key` (`ssh-rsa AAAA... NAME`, the authorized_keys form).

use super::check_args;
use hcl::{Map, Value};
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use std::path::{Path, PathBuf};

/// A PKCS #8 Ed25519 private key is this DER prefix and the 32-byte seed (RFC 8410).
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

pub(super) fn outputs(args: &Map<String, Value>, cache_dir: &Path) -> Result<Value, String> {
    check_args(args, &["name", "type"])?;
    let text = |k: &str, default: &str| -> Result<String, String> {
        match args.get(k) {
            None | Some(Value::Null) => Ok(default.to_string()),
            Some(Value::String(s)) if s.is_empty() => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err(format!("{k}: a string is required")),
        }
    };
    let name = text("name", "packer")?;
    let kind = text("type", "rsa")?;
    if kind != "rsa" && kind != "ed25519" {
        return Err("unsupported key type".into());
    }
    let tag = name.replace('/', "_");
    let path = cache_dir.join(format!("ssh_private_key_{tag}_{kind}.pem"));
    std::fs::create_dir_all(cache_dir)
        .map_err(|e| format!("creating {}: {e}", cache_dir.display()))?;
    let public = match std::fs::read_to_string(&path) {
        Ok(pem) => public_of(&kind, &pem)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (pem, public) = generate(&kind)?;
            write_private(&path, &pem)?;
            public
        }
        Err(e) => return Err(format!("reading {}: {e}", path.display())),
    };
    let mut m = Map::new();
    m.insert(
        "private_key_path".into(),
        Value::from(path.to_string_lossy().into_owned()),
    );
    m.insert("public_key".into(), Value::from(format!("{public} {tag}")));
    Ok(Value::Object(m))
}

/// A new key: its private PEM and its public key in OpenSSH's form (no comment).
fn generate(kind: &str) -> Result<(String, String), String> {
    let mut rng = rand::rng();
    if kind == "rsa" {
        let key = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| e.to_string())?;
        let pem = key
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .map_err(|e| e.to_string())?;
        Ok((pem.to_string(), rsa_public(&key)?))
    } else {
        let mut seed = [0u8; 32];
        rand::Rng::fill_bytes(&mut rng, &mut seed);
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        Ok((pem_encode("PRIVATE KEY", &der), ed25519_public(&seed)?))
    }
}

/// The public key of a kept private key, which must be of the kind its name says.
fn public_of(kind: &str, pem: &str) -> Result<String, String> {
    const BAD: &str = "unable to decode PEM";
    if kind == "rsa" {
        if !pem
            .trim_start()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----")
        {
            return Err(BAD.into());
        }
        let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem).map_err(|_| BAD.to_string())?;
        rsa_public(&key)
    } else {
        let body = pem
            .trim()
            .strip_prefix("-----BEGIN PRIVATE KEY-----")
            .and_then(|b| b.strip_suffix("-----END PRIVATE KEY-----"))
            .ok_or(BAD)?;
        let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
            .map_err(|_| BAD.to_string())?;
        let seed: [u8; 32] = der
            .strip_prefix(&ED25519_PKCS8_PREFIX[..])
            .and_then(|s| s.try_into().ok())
            .ok_or("x509: failed to parse private key: not an Ed25519 key")?;
        ed25519_public(&seed)
    }
}

fn rsa_public(key: &rsa::RsaPrivateKey) -> Result<String, String> {
    let public =
        ssh_key::public::RsaPublicKey::try_from(&key.to_public_key()).map_err(|e| e.to_string())?;
    ssh_key::PublicKey::from(ssh_key::public::KeyData::from(public))
        .to_openssh()
        .map_err(|e| e.to_string())
}

fn ed25519_public(seed: &[u8; 32]) -> Result<String, String> {
    let pair = ssh_key::private::Ed25519Keypair::from_seed(seed);
    ssh_key::PublicKey::from(pair.public)
        .to_openssh()
        .map_err(|e| e.to_string())
}

/// PEM as Go's `pem.EncodeToMemory` writes it: 64 base64 characters a line.
fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Writes the key readable by its owner only, all at once: a key is never seen half written.
fn write_private(path: &Path, pem: &str) -> Result<(), String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let staged = PathBuf::from(format!("{}.{}.tmp", path.display(), std::process::id()));
    let fail = |e: std::io::Error| format!("writing {}: {e}", path.display());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&staged)
        .map_err(fail)?;
    f.write_all(pem.as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    drop(f);
    std::fs::rename(&staged, path).map_err(|e| {
        let _ = std::fs::remove_file(&staged);
        fail(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect()
    }

    fn get<'a>(v: &'a Value, k: &str) -> &'a str {
        v.as_object().unwrap()[k].as_str().unwrap()
    }

    #[test]
    fn makes_a_key_once_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("packer_cache");
        for kind in ["ed25519", "rsa"] {
            let a = args(&[("name", "web/1"), ("type", kind)]);
            let first = outputs(&a, &cache).unwrap();
            let path = get(&first, "private_key_path");
            assert_eq!(
                path,
                cache
                    .join(format!("ssh_private_key_web_1_{kind}.pem"))
                    .to_str()
                    .unwrap()
            );
            let public = get(&first, "public_key");
            let prefix = if kind == "rsa" {
                "ssh-rsa AAAA"
            } else {
                "ssh-ed25519 AAAA"
            };
            assert!(public.starts_with(prefix), "{public}");
            assert!(public.ends_with(" web_1"), "{public}");
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            if kind == "rsa" {
                // OpenSSH itself reads the key and derives the same public key.
                let out = std::process::Command::new("ssh-keygen")
                    .args(["-y", "-f", path])
                    .output()
                    .expect("ssh-keygen (apt-get install openssh-client)");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let derived = String::from_utf8(out.stdout).unwrap();
                assert_eq!(format!("{} web_1", derived.trim()), public);
            } else {
                // OpenSSH reads no PKCS #8 Ed25519 keys (Go and russh do); OpenSSL derives
                // the public key, whose 32 bytes end both encodings.
                let out = std::process::Command::new("openssl")
                    .args(["pkey", "-pubout", "-outform", "DER", "-in", path])
                    .output()
                    .expect("openssl (apt-get install openssl)");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let blob = public.split(' ').nth(1).unwrap();
                let blob = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, blob)
                    .unwrap();
                assert_eq!(out.stdout[out.stdout.len() - 32..], blob[blob.len() - 32..]);
            }
            // A second run reads the kept key.
            let again = outputs(&a, &cache).unwrap();
            assert_eq!(again, first);
        }
    }

    #[test]
    fn defaults_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let v = outputs(&args(&[("type", "ed25519")]), dir.path()).unwrap();
        assert!(get(&v, "private_key_path").ends_with("ssh_private_key_packer_ed25519.pem"));
        assert!(get(&v, "public_key").ends_with(" packer"));
        assert_eq!(
            outputs(&args(&[("type", "dsa")]), dir.path()).unwrap_err(),
            "unsupported key type"
        );
        std::fs::write(dir.path().join("ssh_private_key_bad_rsa.pem"), "junk").unwrap();
        assert_eq!(
            outputs(&args(&[("name", "bad")]), dir.path()).unwrap_err(),
            "unable to decode PEM"
        );
        assert!(outputs(&args(&[("size", "1")]), dir.path())
            .unwrap_err()
            .contains("\"size\" is not expected"));
    }
}
