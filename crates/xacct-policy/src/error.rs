//! Typed errors of the policy crate.

/// Everything that can go wrong while reading or editing a policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The text is not JSON; position as serde_json reports it (1-based).
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description, without its position suffix.
        message: String,
    },
    /// The JSON is well formed but an element is not a valid policy element.
    #[error("invalid `{path}`: {message}")]
    Invalid {
        /// Where, e.g. `Statement[1].Principal`.
        path: String,
        /// What was expected.
        message: String,
    },
    /// The text looked percent-encoded but does not decode.
    #[error("invalid percent-encoded policy document: {0}")]
    Decode(String),
    /// An owned statement must carry a `Sid`.
    #[error("statement has no `Sid`: an owned statement must be identified by its `Sid`")]
    MissingSid,
    /// Several statements carry the same `Sid`, so an edit by `Sid` is ambiguous.
    #[error("more than one statement has Sid `{0}`")]
    DuplicateSid(String),
    /// A document exceeds an IAM size quota.
    #[error("policy document is {size} characters, over the {quota}-character quota (whitespace outside strings not counted)")]
    TooLarge {
        /// Size as IAM counts it.
        size: usize,
        /// The quota it was checked against.
        quota: usize,
    },
}

/// Result alias of this crate.
pub type Result<T, E = PolicyError> = std::result::Result<T, E>;

impl PolicyError {
    /// The 1-based line and column this error points at in `text` (the decoded
    /// document it came from): serde_json's position for [`PolicyError::Json`], the
    /// element's position (via [`crate::locate`]) for [`PolicyError::Invalid`].
    pub fn position(&self, text: &str) -> Option<(usize, usize)> {
        match self {
            PolicyError::Json { line, column, .. } => Some((*line, *column)),
            PolicyError::Invalid { path, .. } => crate::locate::locate(text, path),
            _ => None,
        }
    }

    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        PolicyError::Invalid { path: path.into(), message: message.into() }
    }

    pub(crate) fn from_serde(err: &serde_json::Error) -> Self {
        let full = err.to_string();
        // serde_json appends " at line X column Y"; keep the message short.
        let message = match full.rfind(" at line ") {
            Some(i) => full[..i].to_string(),
            None => full,
        };
        PolicyError::Json { line: err.line(), column: err.column(), message }
    }
}
