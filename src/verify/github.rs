//! GitHub webhook signatures: `X-Hub-Signature-256` (HMAC-SHA256, hex) checked against
//! every active secret, and the legacy `X-Hub-Signature` (HMAC-SHA1) only when allowed.

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;
use sha2::Sha256;

use super::{AuthError, Request, Verified, Verifier, VerifyError};

/// GitHub's scheme: the active webhook secrets, and whether SHA-1 alone is accepted.
pub struct GithubSignature {
    secrets: Vec<SecretString>,
    allow_sha1: bool,
}

impl GithubSignature {
    pub fn new(secrets: Vec<SecretString>, allow_sha1: bool) -> Self {
        GithubSignature {
            secrets,
            allow_sha1,
        }
    }
}

#[async_trait]
impl Verifier for GithubSignature {
    fn scheme(&self) -> &'static str {
        "github"
    }

    async fn verify(&self, request: &Request<'_>) -> Result<Verified, VerifyError> {
        let headers = SignatureHeaders {
            sha256: super::header(request.headers, "x-hub-signature-256")?,
            sha1: super::header(request.headers, "x-hub-signature")?,
        };
        verify(&self.secrets, headers, self.allow_sha1, request.body)?;
        Ok(Verified::Signed)
    }
}

/// The signature headers of one request, as sent.
#[derive(Debug, Default, Clone, Copy)]
pub struct SignatureHeaders<'a> {
    pub sha256: Option<&'a str>,
    pub sha1: Option<&'a str>,
}

/// Verifies `body` against the active secrets. SHA-256 is preferred whenever present;
/// SHA-1 is consulted only when `allow_sha1` is set and no SHA-256 header was sent.
pub fn verify(
    secrets: &[SecretString],
    headers: SignatureHeaders<'_>,
    allow_sha1: bool,
    body: &[u8],
) -> Result<(), AuthError> {
    if let Some(value) = headers.sha256 {
        let expected = decode(value, "sha256=", 32)?;
        return check::<Hmac<Sha256>>(secrets, body, &expected);
    }
    match headers.sha1 {
        Some(value) if allow_sha1 => {
            let expected = decode(value, "sha1=", 20)?;
            check::<Hmac<Sha1>>(secrets, body, &expected)
        }
        _ => Err(AuthError::SignatureMissing),
    }
}

fn decode(value: &str, prefix: &str, len: usize) -> Result<Vec<u8>, AuthError> {
    let hex_part = value
        .trim()
        .strip_prefix(prefix)
        .ok_or(AuthError::SignatureMalformed)?;
    let bytes = hex::decode(hex_part).map_err(|_| AuthError::SignatureMalformed)?;
    if bytes.len() != len {
        return Err(AuthError::SignatureMalformed);
    }
    Ok(bytes)
}

fn check<M: Mac + hmac::digest::KeyInit>(
    secrets: &[SecretString],
    body: &[u8],
    expected: &[u8],
) -> Result<(), AuthError> {
    // Every secret is tried, so timing does not reveal which one matched.
    let mut matched = false;
    for secret in secrets {
        let mut mac =
            <M as hmac::digest::KeyInit>::new_from_slice(secret.expose_secret().as_bytes())
                .expect("HMAC accepts keys of any length");
        mac.update(body);
        matched |= mac.verify_slice(expected).is_ok();
    }
    if matched {
        Ok(())
    } else {
        Err(AuthError::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::KeyInit;

    fn sign256(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    fn secrets(list: &[&str]) -> Vec<SecretString> {
        list.iter()
            .map(|s| SecretString::from(s.to_string()))
            .collect()
    }

    // The example from GitHub's "Validating webhook deliveries" documentation.
    #[test]
    fn matches_githubs_documented_example() {
        let headers = SignatureHeaders {
            sha256: Some("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
            sha1: None,
        };
        let result = verify(
            &secrets(&["It's a Secret to Everybody"]),
            headers,
            false,
            b"Hello, World!",
        );
        assert_eq!(result, Ok(()));
    }

    #[test]
    fn any_active_secret_verifies() {
        let sig = sign256("old", b"{}");
        let headers = SignatureHeaders {
            sha256: Some(&sig),
            sha1: None,
        };
        assert_eq!(
            verify(&secrets(&["new", "old"]), headers, false, b"{}"),
            Ok(())
        );
        assert_eq!(
            verify(&secrets(&["new"]), headers, false, b"{}"),
            Err(AuthError::SignatureMismatch)
        );
        assert_eq!(
            verify(&secrets(&["old"]), headers, false, b"{ }"),
            Err(AuthError::SignatureMismatch)
        );
    }

    #[test]
    fn malformed_and_missing_signatures() {
        for bad in ["sha256=zz", "sha256=abcd", "md5=00", ""] {
            let headers = SignatureHeaders {
                sha256: Some(bad),
                sha1: None,
            };
            assert_eq!(
                verify(&secrets(&["s"]), headers, false, b"{}"),
                Err(AuthError::SignatureMalformed),
                "{bad}"
            );
        }
        assert_eq!(
            verify(&secrets(&["s"]), SignatureHeaders::default(), true, b"{}"),
            Err(AuthError::SignatureMissing)
        );
    }

    #[test]
    fn sha1_only_when_allowed() {
        let mut mac = Hmac::<Sha1>::new_from_slice(b"s").unwrap();
        mac.update(b"{}");
        let sig = format!("sha1={}", hex::encode(mac.finalize().into_bytes()));
        let headers = SignatureHeaders {
            sha256: None,
            sha1: Some(&sig),
        };
        assert_eq!(
            verify(&secrets(&["s"]), headers, false, b"{}"),
            Err(AuthError::SignatureMissing)
        );
        assert_eq!(verify(&secrets(&["s"]), headers, true, b"{}"), Ok(()));
    }
}
