//! The typed model of an IAM policy document.
//!
//! Parsing is tolerant of every form IAM accepts (single values or arrays,
//! a single statement object or an array, booleans and numbers as condition
//! values) and strict about structure: an element of the wrong type or an
//! unknown element is an error naming its path.

use serde_json::{Map, Value};

use crate::error::{PolicyError, Result};

/// The two versions IAM knows.
pub const VERSION_2012: &str = "2012-10-17";
/// The legacy version (no policy variables).
pub const VERSION_2008: &str = "2008-10-17";

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `Version`, when present.
    pub version: Option<String>,
    /// `Id`, when present.
    pub id: Option<String>,
    /// Statements in document order (a single statement object becomes one element).
    pub statements: Vec<Statement>,
}

/// `Allow` or `Deny`; parsed case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

impl Effect {
    /// The spelling IAM uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// A `Principal` or `NotPrincipal` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The bare string `"*"` (everyone, including anonymous).
    Any,
    /// A map of principal types (`AWS`, `Service`, `Federated`, `CanonicalUser`)
    /// to values, in document order.
    Typed(Vec<(PrincipalType, Vec<String>)>),
}

impl Principal {
    /// The values of one principal type (empty if absent or [`Principal::Any`]).
    pub fn values(&self, ty: PrincipalType) -> &[String] {
        match self {
            Principal::Any => &[],
            Principal::Typed(entries) => {
                entries.iter().find(|(t, _)| *t == ty).map(|(_, v)| v.as_slice()).unwrap_or(&[])
            }
        }
    }

    /// All `AWS` principal values.
    pub fn aws(&self) -> &[String] {
        self.values(PrincipalType::Aws)
    }
}

/// The principal types IAM accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    /// `AWS`: accounts, roles, users, sessions.
    Aws,
    /// `Service`: AWS service principals.
    Service,
    /// `Federated`: SAML or OIDC providers.
    Federated,
    /// `CanonicalUser`: S3 canonical user IDs.
    CanonicalUser,
}

impl PrincipalType {
    /// The key as written in a document.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }

    /// Parse a key as written in a document (case-sensitive, like IAM).
    pub fn parse(key: &str) -> Option<Self> {
        match key {
            "AWS" => Some(PrincipalType::Aws),
            "Service" => Some(PrincipalType::Service),
            "Federated" => Some(PrincipalType::Federated),
            "CanonicalUser" => Some(PrincipalType::CanonicalUser),
            _ => None,
        }
    }
}

/// One `operator → key → values` clause of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionClause {
    /// The operator as written, e.g. `StringEquals`, `ForAnyValue:StringLikeIfExists`.
    pub operator: String,
    /// The condition key as written, e.g. `sts:ExternalId`.
    pub key: String,
    /// The values; booleans and numbers are kept as their JSON text (`true`, `3600`).
    pub values: Vec<String>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `Sid`.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal`.
    pub principal: Option<Principal>,
    /// `NotPrincipal`.
    pub not_principal: Option<Principal>,
    /// `Action`.
    pub action: Option<Vec<String>>,
    /// `NotAction`.
    pub not_action: Option<Vec<String>>,
    /// `Resource`.
    pub resource: Option<Vec<String>>,
    /// `NotResource`.
    pub not_resource: Option<Vec<String>>,
    /// `Condition`, flattened in document order (empty when absent).
    pub conditions: Vec<ConditionClause>,
}

const STATEMENT_KEYS: &[&str] =
    &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

impl Policy {
    /// Parse raw JSON text (decode IAM's URL encoding first with
    /// [`crate::decode_document`], or use [`Policy::parse_encoded`]).
    pub fn parse(text: &str) -> Result<Self> {
        let value = parse_json(text)?;
        Self::from_value(&value)
    }

    /// Decode (when percent-encoded) and parse a document as IAM returns it.
    pub fn parse_encoded(text: &str) -> Result<Self> {
        Self::parse(&crate::decode::decode_document(text)?)
    }

    /// Build the model from an already-parsed JSON value.
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = value.as_object().ok_or_else(|| PolicyError::invalid("(document)", "expected a JSON object"))?;
        let mut version = None;
        let mut id = None;
        let mut statements = Vec::new();
        for (key, v) in obj {
            match key.as_str() {
                "Version" => version = Some(expect_string(v, "Version")?),
                "Id" => id = Some(expect_string(v, "Id")?),
                "Statement" => match v {
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            statements.push(Statement::parse_at(item, &format!("Statement[{i}]"))?);
                        }
                    }
                    Value::Object(_) => statements.push(Statement::parse_at(v, "Statement")?),
                    _ => {
                        return Err(PolicyError::invalid(
                            "Statement",
                            format!("expected an object or an array of objects, found {}", kind_of(v)),
                        ))
                    }
                },
                other => {
                    return Err(PolicyError::invalid(other, "unknown element; expected `Version`, `Id` or `Statement`"))
                }
            }
        }
        Ok(Policy { version, id, statements })
    }
}

impl Statement {
    /// Parse one statement (a JSON object).
    pub fn from_value(value: &Value) -> Result<Self> {
        Self::parse_at(value, "Statement")
    }

    /// Parse one statement, naming errors under `path`.
    pub(crate) fn parse_at(value: &Value, path: &str) -> Result<Self> {
        let obj = value.as_object().ok_or_else(|| {
            PolicyError::invalid(path, format!("expected a statement object, found {}", kind_of(value)))
        })?;
        for key in obj.keys() {
            if !STATEMENT_KEYS.contains(&key.as_str()) {
                return Err(PolicyError::invalid(format!("{path}.{key}"), "unknown statement element"));
            }
        }
        let at = |k: &str| format!("{path}.{k}");
        let sid = obj.get("Sid").map(|v| expect_string(v, &at("Sid"))).transpose()?;
        let effect = match obj.get("Effect") {
            None => return Err(PolicyError::invalid(at("Effect"), "missing; expected `Allow` or `Deny`")),
            Some(v) => {
                let s = expect_string(v, &at("Effect"))?;
                parse_effect(&s).ok_or_else(|| {
                    PolicyError::invalid(at("Effect"), format!("expected `Allow` or `Deny`, found `{s}`"))
                })?
            }
        };
        let principal = obj.get("Principal").map(|v| parse_principal(v, &at("Principal"))).transpose()?;
        let not_principal = obj.get("NotPrincipal").map(|v| parse_principal(v, &at("NotPrincipal"))).transpose()?;
        let list = |k: &str| obj.get(k).map(|v| string_list(v, &at(k))).transpose();
        let conditions = match obj.get("Condition") {
            None => Vec::new(),
            Some(v) => parse_conditions(v, &at("Condition"))?,
        };
        Ok(Statement {
            sid,
            effect,
            principal,
            not_principal,
            action: list("Action")?,
            not_action: list("NotAction")?,
            resource: list("Resource")?,
            not_resource: list("NotResource")?,
            conditions,
        })
    }
}

/// Parse JSON text, reporting serde_json's line and column on failure.
pub fn parse_json(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| PolicyError::from_serde(&e))
}

/// Case-insensitive `Allow`/`Deny`.
pub fn parse_effect(s: &str) -> Option<Effect> {
    if s.eq_ignore_ascii_case("allow") {
        Some(Effect::Allow)
    } else if s.eq_ignore_ascii_case("deny") {
        Some(Effect::Deny)
    } else {
        None
    }
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn expect_string(v: &Value, path: &str) -> Result<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| PolicyError::invalid(path, format!("expected a string, found {}", kind_of(v))))
}

/// A string or an array of strings.
fn string_list(v: &Value, path: &str) -> Result<Vec<String>> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => {
            items.iter().enumerate().map(|(i, item)| expect_string(item, &format!("{path}[{i}]"))).collect()
        }
        other => Err(PolicyError::invalid(
            path,
            format!("expected a string or an array of strings, found {}", kind_of(other)),
        )),
    }
}

fn parse_principal(v: &Value, path: &str) -> Result<Principal> {
    match v {
        Value::String(s) if s == "*" => Ok(Principal::Any),
        Value::String(s) => Err(PolicyError::invalid(
            path,
            format!("a bare string principal must be `*`, found `{s}`; use {{\"AWS\": \"{s}\"}}"),
        )),
        Value::Object(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (key, val) in map {
                let ty = PrincipalType::parse(key).ok_or_else(|| {
                    PolicyError::invalid(
                        format!("{path}.{key}"),
                        "unknown principal type; expected `AWS`, `Service`, `Federated` or `CanonicalUser`",
                    )
                })?;
                entries.push((ty, string_list(val, &format!("{path}.{key}"))?));
            }
            Ok(Principal::Typed(entries))
        }
        other => Err(PolicyError::invalid(path, format!("expected `*` or an object, found {}", kind_of(other)))),
    }
}

fn scalar_text(v: &Value, path: &str) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => {
            Err(PolicyError::invalid(path, format!("expected a string, boolean or number, found {}", kind_of(other))))
        }
    }
}

fn parse_conditions(v: &Value, path: &str) -> Result<Vec<ConditionClause>> {
    let ops: &Map<String, Value> = v
        .as_object()
        .ok_or_else(|| PolicyError::invalid(path, format!("expected an object of operators, found {}", kind_of(v))))?;
    let mut out = Vec::new();
    for (op, keys) in ops {
        let op_path = format!("{path}.{op}");
        let keys = keys.as_object().ok_or_else(|| {
            PolicyError::invalid(&op_path, format!("expected an object of condition keys, found {}", kind_of(keys)))
        })?;
        for (key, vals) in keys {
            let key_path = format!("{op_path}.{key}");
            let values = match vals {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| scalar_text(item, &format!("{key_path}[{i}]")))
                    .collect::<Result<Vec<_>>>()?,
                other => vec![scalar_text(other, &key_path)?],
            };
            out.push(ConditionClause { operator: op.clone(), key: key.clone(), values });
        }
    }
    Ok(out)
}

/// Whether `s` looks like an IAM unique ID of a role (`AROA…`) or user (`AIDA…`):
/// the form a principal takes once the role or user it named was deleted.
pub fn is_unique_id(s: &str) -> bool {
    (s.starts_with("AROA") || s.starts_with("AIDA"))
        && s.len() >= 16
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `AWS` principal values (in `Principal` and `NotPrincipal`) that are unique IDs
/// rather than ARNs or account IDs: trust that silently broke when the named role or
/// user was deleted (and maybe recreated).
pub fn unique_id_principals(policy: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    for st in &policy.statements {
        for p in [&st.principal, &st.not_principal].into_iter().flatten() {
            for v in p.aws() {
                if is_unique_id(v) && !out.contains(v) {
                    out.push(v.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_element_form() {
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"A","Effect":"allow",
            "Principal":{"AWS":"123456789012","Service":["ec2.amazonaws.com"],"Federated":"arn:aws:iam::1:oidc-provider/x","CanonicalUser":"abc"},
            "Action":"sts:AssumeRole","Resource":["*"],
            "Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"n":3600},"ForAnyValue:StringLikeIfExists":{"k":["a","b"]}}}}"#,
        )
        .unwrap();
        assert_eq!(p.version.as_deref(), Some("2012-10-17"));
        assert_eq!(p.id.as_deref(), Some("x"));
        let s = &p.statements[0];
        assert_eq!(s.effect, Effect::Allow);
        let pr = s.principal.as_ref().unwrap();
        assert_eq!(pr.aws(), ["123456789012"]);
        assert_eq!(pr.values(PrincipalType::Service), ["ec2.amazonaws.com"]);
        assert_eq!(pr.values(PrincipalType::CanonicalUser), ["abc"]);
        assert_eq!(s.action.as_deref(), Some(&["sts:AssumeRole".to_string()][..]));
        assert_eq!(s.conditions.len(), 3);
        assert_eq!(s.conditions[0].values, ["true"]);
        assert_eq!(s.conditions[1].values, ["3600"]);
        assert_eq!(s.conditions[2].operator, "ForAnyValue:StringLikeIfExists");
    }

    #[test]
    fn not_elements_and_wildcard_principal() {
        let p = Policy::parse(
            r#"{"Statement":[{"Effect":"Deny","NotPrincipal":"*","NotAction":["s3:*"],"NotResource":"arn:aws:s3:::b"}]}"#,
        )
        .unwrap();
        let s = &p.statements[0];
        assert_eq!(s.not_principal, Some(Principal::Any));
        assert!(s.action.is_none());
        assert_eq!(s.not_action.as_ref().unwrap(), &["s3:*"]);
        assert_eq!(s.not_resource.as_ref().unwrap(), &["arn:aws:s3:::b"]);
        assert!(p.version.is_none());
    }

    #[test]
    fn json_error_has_line_and_column() {
        let err = Policy::parse("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [,]\n}").unwrap_err();
        match err {
            PolicyError::Json { line, column, .. } => {
                assert_eq!(line, 3);
                assert!(column > 0);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn wrong_element_names_its_path() {
        let err = Policy::parse(r#"{"Statement":[{"Effect":"Allow"},{"Effect":"Allow","Action":5}]}"#).unwrap_err();
        assert_eq!(
            err,
            PolicyError::Invalid {
                path: "Statement[1].Action".into(),
                message: "expected a string or an array of strings, found a number".into()
            }
        );
        let err = Policy::parse(r#"{"Statement":{"Effect":"Maybe"}}"#).unwrap_err();
        assert!(err.to_string().contains("`Statement.Effect`"), "{err}");
        let err = Policy::parse(r#"{"Statement":[{"Effect":"Allow","Principal":{"Aws":"1"}}]}"#).unwrap_err();
        assert!(err.to_string().contains("Statement[0].Principal.Aws"), "{err}");
        let err = Policy::parse(r#"{"Statement":[{"Effect":"Allow","Actions":"x"}]}"#).unwrap_err();
        assert!(err.to_string().contains("Statement[0].Actions"), "{err}");
        let err =
            Policy::parse(r#"{"Statement":[{"Effect":"Allow","Condition":{"StringEquals":{"k":null}}}]}"#).unwrap_err();
        assert!(err.to_string().contains("Statement[0].Condition.StringEquals.k"), "{err}");
        assert!(Policy::parse("[]").is_err());
        assert!(Policy::parse(r#"{"Statement":"x"}"#).is_err());
        assert!(Policy::parse(r#"{"Statement":[{"Effect":"Allow","Principal":"arn:x"}]}"#).is_err());
    }

    #[test]
    fn element_error_has_position() {
        let text = "{\"Statement\": [\n  {\"Effect\": \"Allow\",\n   \"Action\": 5}]}";
        let err = Policy::parse(text).unwrap_err();
        assert_eq!(err.position(text), Some((3, 4)));
        let err = Policy::parse("{\n,").unwrap_err();
        assert_eq!(err.position(""), Some((2, 1)));
        assert_eq!(PolicyError::MissingSid.position(text), None);
    }

    #[test]
    fn parse_encoded_decodes() {
        let p = Policy::parse_encoded("%7B%22Statement%22%3A%5B%5D%7D").unwrap();
        assert!(p.statements.is_empty());
    }

    #[test]
    fn detects_unique_id_principals() {
        let p = Policy::parse(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["AROA1234567890ABCDEFG","arn:aws:iam::1:root","AIDAJQABLZS4A3QDU576Q"]},"Action":"sts:AssumeRole"}]}"#,
        )
        .unwrap();
        assert_eq!(unique_id_principals(&p), ["AROA1234567890ABCDEFG", "AIDAJQABLZS4A3QDU576Q"]);
        assert!(!is_unique_id("AROA"));
        assert!(!is_unique_id("arn:aws:iam::123456789012:role/AROAX"));
    }
}
