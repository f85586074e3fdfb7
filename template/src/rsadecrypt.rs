//! `rsadecrypt(ciphertext, privatekey)`: Packer's (go-cty-funcs') RSA decryption. The ciphertext
//! is standard base64; the key is the first PEM block of the text, a PKCS #1 RSA private key
//! (whatever its label says, as Go's `pem.Decode` + `x509.ParsePKCS1PrivateKey`), not encrypted;
//! the padding is PKCS #1 v1.5.

use crate::functions::s;
use base64::Engine as _;
use hcl::eval::FuncArgs;
use hcl::Value;
use rsa::pkcs1::DecodeRsaPrivateKey as _;

type R = Result<Value, String>;

pub(crate) fn rsadecrypt(a: FuncArgs) -> R {
    let text = s(&a[0])?;
    let key = s(&a[1])?;
    // Go's decoder skips line breaks (EC2's password data has them, a file ends with one).
    let flat: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    let cipher = base64::engine::general_purpose::STANDARD
        .decode(&flat)
        .map_err(|_| {
            format!("failed to decode input {text:?}: cipher text must be base64-encoded")
        })?;
    let block = pem_block(&key).ok_or("failed to parse key: no key found")?;
    if block.encrypted {
        return Err(
            "failed to parse key: password protected keys are not supported. Please \
                    decrypt the key prior to use"
                .into(),
        );
    }
    let key = rsa::RsaPrivateKey::from_pkcs1_der(&block.der).map_err(|_| {
        if pkcs8_rsa(&block.der) {
            "x509: failed to parse private key (use ParsePKCS8PrivateKey instead for this key \
             format)"
        } else {
            "x509: malformed private key"
        }
    })?;
    let plain = key
        .decrypt(rsa::Pkcs1v15Encrypt, &cipher)
        .map_err(|_| "crypto/rsa: decryption error")?;
    Ok(Value::from(String::from_utf8_lossy(&plain).into_owned()))
}

/// Whether `der` is a PKCS #8 key (which Go names in its error).
fn pkcs8_rsa(der: &[u8]) -> bool {
    use rsa::pkcs8::DecodePrivateKey as _;
    rsa::RsaPrivateKey::from_pkcs8_der(der).is_ok()
}

struct Block {
    der: Vec<u8>,
    encrypted: bool,
}

/// The first well-formed PEM block in `text`, as Go's `pem.Decode` finds it: a `-----BEGIN L-----`
/// line, optional `Key: value` headers ended by a blank line, base64 lines, `-----END L-----`.
/// A malformed block is skipped and the search goes on after its BEGIN line.
fn pem_block(text: &str) -> Option<Block> {
    let mut rest = text;
    while let Some(at) = rest.find("-----BEGIN ") {
        let from_line_start = at == 0 || rest[..at].ends_with('\n');
        let after = &rest[at + "-----BEGIN ".len()..];
        let (line, body) = after.split_once('\n').unwrap_or((after, ""));
        rest = body;
        let Some(label) = line.trim_end_matches('\r').strip_suffix("-----") else {
            continue;
        };
        if !from_line_start {
            continue;
        }
        if let Some(block) = parse_body(label, body) {
            return Some(block);
        }
    }
    None
}

fn parse_body(label: &str, body: &str) -> Option<Block> {
    let end = format!("-----END {label}-----");
    let stop = body.find(&end)?;
    let mut lines = body[..stop]
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .peekable();
    let mut encrypted = false;
    if lines.peek().is_some_and(|l| l.contains(':')) {
        for line in lines.by_ref() {
            if line.trim().is_empty() {
                break;
            }
            let (k, v) = line.split_once(':')?;
            if k.trim() == "Proc-Type" && v.trim() == "4,ENCRYPTED" {
                encrypted = true;
            }
        }
    }
    let b64: String = lines
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some(Block { der, encrypted })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with OpenSSL (tests/fixtures/rsadecrypt/README.md): an independent encrypter.
    const PKCS1: &str = include_str!("../tests/fixtures/rsadecrypt/pkcs1.pem");
    const PKCS8: &str = include_str!("../tests/fixtures/rsadecrypt/pkcs8.pem");
    const CIPHER: &str = include_str!("../tests/fixtures/rsadecrypt/hello-secret.b64");

    fn call(cipher: &str, key: &str) -> R {
        let mut ctx = hcl::eval::Context::new();
        crate::functions::declare(&mut ctx, false);
        ctx.declare_var("c", cipher);
        ctx.declare_var("k", key);
        let e: hcl::Expression = "rsadecrypt(c, k)".parse().unwrap();
        hcl::eval::Evaluate::evaluate(&e, &ctx).map_err(|e| {
            let text = e.to_string();
            let text = text.trim_start_matches("error calling function `rsadecrypt`: ");
            text.trim_end_matches(" in expression `rsadecrypt(c, k)`")
                .to_string()
        })
    }

    #[test]
    fn decrypts_what_openssl_encrypted() {
        assert_eq!(call(CIPHER, PKCS1).unwrap(), Value::from("hello secret"));
        let wrapped_cipher = format!("{}\r\n{}\n", &CIPHER[..64], &CIPHER[64..]);
        assert_eq!(
            call(&wrapped_cipher, PKCS1).unwrap(),
            Value::from("hello secret")
        );
        let wrapped = format!("junk before\n{PKCS1}\ntrailing");
        assert_eq!(call(CIPHER, &wrapped).unwrap(), Value::from("hello secret"));
    }

    #[test]
    fn errors_say_what_go_says() {
        assert_eq!(
            call("%%%", PKCS1).unwrap_err(),
            r#"failed to decode input "%%%": cipher text must be base64-encoded"#
        );
        assert_eq!(
            call(CIPHER, "no pem here").unwrap_err(),
            "failed to parse key: no key found"
        );
        let enc = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\naGk=\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(
            call(CIPHER, enc).unwrap_err(),
            "failed to parse key: password protected keys are not supported. Please decrypt the \
             key prior to use"
        );
        let garbage = "-----BEGIN RSA PRIVATE KEY-----\naGk=\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(
            call(CIPHER, garbage).unwrap_err(),
            "x509: malformed private key"
        );
        assert_eq!(
            call(CIPHER, PKCS8).unwrap_err(),
            "x509: failed to parse private key (use ParsePKCS8PrivateKey instead for this key \
             format)"
        );
        assert_eq!(
            call("aGk=", PKCS1).unwrap_err(),
            "crypto/rsa: decryption error"
        );
    }
}
