//! Turning SDK errors into [`CloudError`]s a person can act on, without leaking secrets.

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use xacct_plan::cloud::CloudError;

/// What went wrong with one call, before it is worded for a given account and action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    NoSuchEntity(String),
    AccessDenied(String),
    Malformed(String),
    LimitExceeded(String),
    /// AWS refused the credentials (expired, invalid, bad signature).
    Credentials(String),
    /// No credentials could be loaded at all.
    NoCredentials(String),
    Throttled(String),
    /// Anything else: `code: message`, or the transport error.
    Other(String),
}

const CREDENTIAL_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "RequestExpired",
    "TokenRefreshRequired",
    "InvalidToken",
];

const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
];

const ACCESS_DENIED_CODES: &[&str] = &["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"];

impl Failure {
    /// Classify any SDK error.
    pub(crate) fn of<E, R>(err: &SdkError<E, R>) -> Failure
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: std::fmt::Debug + 'static,
    {
        if let Some(service) = err.as_service_error() {
            let code = service.code().unwrap_or("");
            let message = scrub(service.message().unwrap_or(""));
            let text = if message.is_empty() { code.to_string() } else { format!("{code}: {message}") };
            return match code {
                "NoSuchEntity" | "NoSuchEntityException" => Failure::NoSuchEntity(message),
                "MalformedPolicyDocument" | "MalformedPolicyDocumentException" => Failure::Malformed(message),
                "LimitExceeded" | "LimitExceededException" => Failure::LimitExceeded(message),
                c if ACCESS_DENIED_CODES.contains(&c) => Failure::AccessDenied(message),
                c if CREDENTIAL_CODES.contains(&c) => Failure::Credentials(text),
                c if THROTTLING_CODES.contains(&c) => Failure::Throttled(text),
                _ => Failure::Other(text),
            };
        }
        let detail = scrub(&chain(err));
        if has_credentials_error(err) {
            return Failure::NoCredentials(detail);
        }
        match err {
            SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => {
                Failure::Other(format!("could not reach the AWS endpoint (retries exhausted): {detail}"))
            }
            SdkError::TimeoutError(_) => Failure::Other(format!("timed out (retries exhausted): {detail}")),
            SdkError::ResponseError(_) => Failure::Other(format!("unreadable response: {detail}")),
            _ => Failure::Other(detail),
        }
    }

    /// Word this failure for `action` (`iam:GetRole`) in `account`, about `what`, made by
    /// `principal` (the ARN xacct acts as there, or a description of the base credentials).
    pub(crate) fn into_cloud(self, account: &str, action: &str, what: &str, principal: &str) -> CloudError {
        let account = account.to_string();
        match self {
            Failure::NoSuchEntity(_) => CloudError::NoSuchEntity { what: what.to_string() },
            Failure::AccessDenied(message) => CloudError::AccessDenied {
                account,
                principal: principal_in(&message).unwrap_or_else(|| principal.to_string()),
                action: action.to_string(),
                message,
            },
            Failure::Malformed(message) => CloudError::MalformedPolicy { what: what.to_string(), message },
            Failure::LimitExceeded(message) => CloudError::LimitExceeded { what: what.to_string(), message },
            Failure::Credentials(message) => CloudError::Credentials {
                account,
                message: format!(
                    "AWS refused the credentials of {principal} for `{action}` ({message}); refresh or fix them"
                ),
            },
            Failure::NoCredentials(message) => CloudError::Credentials {
                account,
                message: if principal.starts_with("profile ") && message.contains("not enabled") {
                    // What the SDK says for a profile that no config file defines.
                    format!(
                        "could not load credentials from {principal}: no such profile in the AWS config or credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE), or it names a credential source xacct does not support"
                    )
                } else {
                    format!("could not load credentials from {principal}: {message}")
                },
            },
            Failure::Throttled(_) => CloudError::Throttled { account, action: action.to_string() },
            Failure::Other(message) => CloudError::Other { account, action: action.to_string(), message },
        }
    }

    pub(crate) fn is_invalid_principal(&self) -> bool {
        matches!(self, Failure::Malformed(m) if m.to_ascii_lowercase().contains("invalid principal"))
    }
}

/// An error and its sources, `: `-joined, each said once.
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// True when a credentials provider failed somewhere in the error's source chain.
fn has_credentials_error(err: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}

/// The principal AWS names in an access-denied message (`User: arn:… is not authorized …`).
fn principal_in(message: &str) -> Option<String> {
    let rest = &message[message.find("User: ")? + "User: ".len()..];
    let end = rest.find(" is not authorized").unwrap_or_else(|| rest.find(char::is_whitespace).unwrap_or(rest.len()));
    let principal = rest[..end].trim();
    (!principal.is_empty()).then(|| principal.to_string())
}

/// Remove anything that looks like an access key ID, a secret key or a session token.
pub(crate) fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let run_end = chars[i..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
            .map_or(chars.len(), |p| i + p);
        if run_end > i {
            let run: String = chars[i..run_end].iter().collect();
            out.push_str(&scrub_word(&run));
            i = run_end;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn scrub_word(word: &str) -> String {
    let is_key_id = word.len() == 20
        && (word.starts_with("AKIA") || word.starts_with("ASIA"))
        && word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    // Secret keys are 40 characters of base64; session tokens are hundreds. ARN resource parts
    // (`role/…`, `assumed-role/…`) are kept: they start with a lowercase word and a `/`.
    let mixed = word.chars().any(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_uppercase())
        && word.chars().any(|c| c.is_ascii_lowercase());
    let arn_like = word.split_once('/').is_some_and(|(first, _)| first.chars().all(|c| c.is_ascii_lowercase()));
    let is_secret_like = mixed && !arn_like && (word.len() == 40 || word.len() >= 80);
    if is_key_id {
        format!("{}…(redacted)", &word[..4])
    } else if is_secret_like {
        "(redacted)".to_string()
    } else {
        word.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_profile_is_named_as_such() {
        let f = Failure::NoCredentials("dispatch failure: other: the credential provider was not enabled".into());
        let e = f.into_cloud("111111111111", "iam:GetRole", "role `r`", "profile `nosuch`").to_string();
        assert!(e.contains("profile `nosuch`: no such profile in the AWS config"), "{e}");
        let f = Failure::NoCredentials("expired".into());
        let e = f.into_cloud("111111111111", "iam:GetRole", "role `r`", "the default credentials").to_string();
        assert!(e.contains("could not load credentials from the default credentials: expired"), "{e}");
    }

    #[test]
    fn principal_is_taken_from_the_message() {
        let m = "User: arn:aws:sts::111111111111:assumed-role/ops/x is not authorized to perform: iam:GetRole";
        assert_eq!(principal_in(m).as_deref(), Some("arn:aws:sts::111111111111:assumed-role/ops/x"));
        assert_eq!(principal_in("nope"), None);
    }

    #[test]
    fn scrub_removes_keys_and_tokens() {
        let text = "key AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY token \
                    FwoGZXIvYXdzEBYaDHqa0AP1/Zd3p0kZ1yKqAZ8y0cXfP2Q6w0e2Q4G8H1mN2b3V4c5X6z7Y8a9B0c1D2e3F4g5H6";
        let out = scrub(text);
        assert!(!out.contains("AKIAIOSFODNN7EXAMPLE"), "{out}");
        assert!(!out.contains("wJalrXUtnFEMI"), "{out}");
        assert!(!out.contains("FwoGZXIvYXdzEBYaDHqa0AP1"), "{out}");
        let arn = "arn:aws:iam::222222222222:role/control-plane.cluster-api-provider-aws.sigs.k8s.io";
        assert_eq!(scrub(arn), arn);
        let session = "arn:aws:sts::2:assumed-role/OrganizationAccountAccessRole/xacct12";
        assert_eq!(scrub(session), session);
        assert_eq!(scrub("Rate exceeded"), "Rate exceeded");
    }
}
