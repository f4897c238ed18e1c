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
    /// The default credential chain went through every source and found no credentials: what
    /// it tried, worded for a person (see [`chain_tried`]).
    EmptyChain(String),
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
        if let Some(tried) = chain_tried(err) {
            return Failure::EmptyChain(tried);
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
                message: if message.contains("SSO token") {
                    // An IAM Identity Center profile whose session is missing or over.
                    let profile = match principal.strip_prefix("profile `").and_then(|p| p.strip_suffix('`')) {
                        Some(name) => Some(name.to_string()),
                        None => std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()),
                    };
                    let said = message.find("failed to load").map_or(message.as_str(), |at| &message[at..]);
                    format!(
                        "could not load credentials from {principal}: no valid SSO session ({said}); run `aws sso login{}`",
                        profile.map(|p| format!(" --profile {p}")).unwrap_or_default()
                    )
                } else if principal.starts_with("profile ") && message.contains("not enabled") {
                    // What the SDK says for a profile that no config file defines.
                    format!(
                        "could not load credentials from {principal}: no such profile in the AWS config or credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE), or it names a credential source xacct does not support"
                    )
                } else {
                    format!("could not load credentials from {principal}: {message}")
                },
            },
            Failure::EmptyChain(tried) => CloudError::Credentials {
                account,
                message: format!("found no AWS credentials; the default credential chain tried, in order: {tried}"),
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

/// When the default credential chain found no credentials in any of its sources: each source,
/// in the order tried, with what it said (`environment variables (AWS_ACCESS_KEY_ID and
/// AWS_SECRET_ACCESS_KEY: not set), …`), as one phrase.
fn chain_tried(err: &(dyn StdError + 'static)) -> Option<String> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    let attempts = loop {
        let Some(e) = current else { return imds_failed(err) };
        if let Some(c) = e.downcast_ref::<aws_config::meta::ProviderChainError<CredentialsError>>() {
            break c.attempts();
        }
        current = e.source();
    };
    if attempts.is_empty() {
        return None;
    }
    let words: Vec<String> = attempts
        .iter()
        .map(|a| {
            // What the provider said, less the SDK's boilerplate.
            let said = scrub(&chain(a.error()));
            let said = said.trim_start_matches("the credential provider was not enabled").trim_start_matches(": ");
            let (source, default) = match a.name() {
                "Environment" => ("environment variables (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", "not set"),
                "Profile" => (
                    "the shared config and credentials files (~/.aws/config, ~/.aws/credentials: AWS_PROFILE, else profile `default`)",
                    "no such profile with credentials",
                ),
                "WebIdentityToken" => ("web identity (AWS_WEB_IDENTITY_TOKEN_FILE)", "not set"),
                "EcsContainer" => ("the ECS container endpoint", "not configured"),
                "Ec2InstanceMetadata" => ("EC2 instance metadata (IMDS)", "not reachable"),
                other => (other, "no credentials"),
            };
            let said = match said {
                "" | "environment variable not set" | "$AWS_WEB_IDENTITY_TOKEN_FILE was not set" | "ECS provider not configured" => default,
                s if s.contains("AWS_EC2_METADATA_DISABLED") => "turned off by AWS_EC2_METADATA_DISABLED",
                s => s,
            };
            format!("{source}: {said}")
        })
        .collect();
    Some(match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{}; and {last}", rest.join("; ")),
        _ => words.join(""),
    })
}

/// When the chain got to instance metadata, its last source, and that failed (rather than found
/// nothing): the sources before it had no credentials, and IMDS said this.
fn imds_failed(err: &(dyn StdError + 'static)) -> Option<String> {
    if !has_credentials_error(err) {
        return None;
    }
    let text = scrub(&chain(err));
    let parts: Vec<&str> = text.split(": ").collect();
    let first = parts.iter().position(|p| p.contains("IMDS"))?;
    let said = parts[first..].join(": ");
    Some(format!(
        "environment variables (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), the shared config and credentials \
         files (~/.aws/config, ~/.aws/credentials: AWS_PROFILE, else profile `default`), web identity \
         (AWS_WEB_IDENTITY_TOKEN_FILE) and the ECS container endpoint: none had credentials; and EC2 instance \
         metadata (IMDS): {} (off EC2, set AWS_EC2_METADATA_DISABLED=true to skip it)",
        said.trim_end_matches('.')
    ))
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

/// Credentials xacct was given or obtained in this process (the static base keys, every
/// assumed-role session), so that [`redact_secrets`] removes them wherever they appear.
static KNOWN_SECRETS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Remember a credential value for [`redact_secrets`]. Values under 8 characters are not
/// remembered: removing them would remove ordinary words (the emulator's `testing`).
pub(crate) fn remember_secret(value: &str) {
    if value.len() < 8 {
        return;
    }
    let mut known = KNOWN_SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push(value.to_string());
        // Longest first, so a value that contains another is removed whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// Names after which a credential or a signature follows, lowercase: XML elements of an STS
/// response, headers, query parameters, `Debug` fields and the `Authorization` header's parts.
const SECRET_NAMES: &[&str] = &[
    "secretaccesskey",
    "sessiontoken",
    "accesskeyid",
    "secret_access_key",
    "session_token",
    "access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_access_key_id",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-credential",
    "signature",
    "credential",
];

/// `text` with every credential and signature in it replaced by `(redacted)`: the values xacct
/// was given or obtained this run, the value after a name that carries one (`<SecretAccessKey>`,
/// `<SessionToken>`, `X-Amz-Security-Token:`, `Signature=`, `Credential=`, …), and anything that
/// looks like an access key ID, a secret key or a session token. For log lines: the AWS SDK's
/// trace output shows requests, responses and signing steps.
///
/// ```
/// let line = "authorization: AWS4-HMAC-SHA256 Credential=AKIAXACCTBASE0000001/20250101/us-east-1/iam/aws4_request, \
///             SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// let clean = xacct_aws::redact_secrets(line);
/// assert!(!clean.contains("AKIAXACCTBASE0000001") && !clean.contains("0123456789abcdef"), "{clean}");
/// assert!(clean.contains("SignedHeaders=host;x-amz-date"));
/// ```
pub fn redact_secrets(text: &str) -> String {
    let mut out = text.to_string();
    {
        let known = KNOWN_SECRETS.lock().unwrap_or_else(|e| e.into_inner());
        for secret in known.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "(redacted)");
            }
        }
    }
    scrub(&redact_named(&out))
}

/// The values after [`SECRET_NAMES`] replaced by `(redacted)`.
fn redact_named(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let is_value = |b: u8| b.is_ascii_alphanumeric() || b"+/=%._-".contains(&b);
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for name in SECRET_NAMES {
        let mut from = 0;
        while let Some(found) = lower[from..].find(name) {
            let start = from + found;
            from = start + name.len();
            if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
                continue; // part of a longer word
            }
            // Separators: `>`, `=`, `: `, `": "`, `\":\"` and the like, a few at most.
            let mut value = from;
            while value < bytes.len() && value - from < 6 && b">=:\"' \t\\".contains(&bytes[value]) {
                value += 1;
            }
            if value == from {
                continue; // `SignatureDoesNotMatch`, `credentials`
            }
            let mut end = value;
            while end < bytes.len() && is_value(bytes[end]) {
                end += 1;
            }
            if end - value >= 4 && !text[value..].starts_with("(redacted") && !text[value..].starts_with("**") {
                ranges.push((value, end));
            }
        }
    }
    if ranges.is_empty() {
        return text.to_string();
    }
    ranges.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str("(redacted)");
        at = end;
    }
    out.push_str(&text[at..]);
    out
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
    fn an_sso_session_to_log_in_to_is_named_as_such() {
        let f = Failure::NoCredentials(
            "dispatch failure: other: an error occurred while loading an access token: failed to load the cached SSO token"
                .into(),
        );
        let e = f.into_cloud("111111111111", "sts:AssumeRole", "role", "profile `dev`").to_string();
        assert!(
            e.ends_with(
                "could not load credentials from profile `dev`: no valid SSO session (failed to load the cached SSO token); run `aws sso login --profile dev`"
            ),
            "{e}"
        );
    }

    #[test]
    fn redaction_of_log_text() {
        remember_secret("xacctKnownSecretValue");
        let text = "a xacctKnownSecretValue b <SecretAccessKey>abc/def+ghi</SecretAccessKey> \
                    <SessionToken>tok123456</SessionToken> x-amz-security-token:FQoGtoken\\nhost:iam \
                    access_key_id: \"AKIDXACCT\" Signature=deadbeef SignatureDoesNotMatch credentials: fine";
        let out = redact_secrets(text);
        for gone in ["xacctKnownSecretValue", "abc/def+ghi", "tok123456", "FQoGtoken", "AKIDXACCT", "deadbeef"] {
            assert!(!out.contains(gone), "`{gone}` in {out}");
        }
        for kept in [
            "SignatureDoesNotMatch",
            "credentials: fine",
            "\\nhost:iam",
            "<SecretAccessKey>(redacted)</SecretAccessKey>",
        ] {
            assert!(out.contains(kept), "`{kept}` not in {out}");
        }
        // Short values are not remembered: they would remove ordinary words.
        remember_secret("testing");
        assert_eq!(redact_secrets("testing 1 2"), "testing 1 2");
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
