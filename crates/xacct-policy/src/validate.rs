//! Validation that real IAM would enforce, plus reviewer findings in the spirit of
//! IAM Access Analyzer's `ValidatePolicy` (ERROR, SECURITY_WARNING, WARNING, SUGGESTION).

use std::fmt;

use serde_json::{Map, Value};

use crate::error::PolicyError;
use crate::eval::{action_matches, glob_match};
use crate::model::{is_unique_id, kind_of, Effect, Principal, Statement, VERSION_2008, VERSION_2012};
use crate::size::{iam_size, ROLE_INLINE_POLICIES_QUOTA, TRUST_POLICY_DEFAULT_QUOTA, TRUST_POLICY_MAX_QUOTA};

/// Which kind of document is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// A role's trust (assume-role) policy: a resource policy with `Principal`, no `Resource`.
    Trust,
    /// An identity (inline or managed) policy: `Resource`, no `Principal`.
    Identity,
}

/// How serious a finding is, in Access Analyzer's terms (most serious first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// IAM rejects the document, or it cannot work.
    Error,
    /// The document grants more than it probably should.
    SecurityWarning,
    /// Likely a mistake.
    Warning,
    /// Could be better.
    Suggestion,
}

impl Severity {
    /// `ERROR`, `SECURITY_WARNING`, `WARNING`, `SUGGESTION`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::SecurityWarning => "SECURITY_WARNING",
            Severity::Warning => "WARNING",
            Severity::Suggestion => "SUGGESTION",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding about a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// Stable machine-readable code, e.g. `MISSING_PRINCIPAL`.
    pub code: &'static str,
    /// What is wrong, for a person.
    pub message: String,
    /// Where, e.g. `Statement[1].Principal` (empty for the whole document).
    pub path: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{} {}: {}", self.severity, self.code, self.message)
        } else {
            write!(f, "{} {} at `{}`: {}", self.severity, self.code, self.path, self.message)
        }
    }
}

/// Whether any finding is an [`Severity::Error`].
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, severity: Severity, code: &'static str, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Finding { severity, code, message: message.into(), path: path.into() });
    }
}

/// Validate a document given as text (percent-encoded or raw JSON): structure as IAM
/// enforces it for `kind`, size against the quotas, and reviewer findings.
pub fn validate(doc_text: &str, kind: PolicyKind) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    let text = match crate::decode::decode_document(doc_text) {
        Ok(t) => t,
        Err(e) => {
            f.add(Severity::Error, "INVALID_ENCODING", "", e.to_string());
            return f.0;
        }
    };
    let value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            f.add(Severity::Error, "INVALID_JSON", "", PolicyError::from_serde(&e).to_string());
            return f.0;
        }
    };
    let size = iam_size(&text);
    match kind {
        PolicyKind::Trust if size > TRUST_POLICY_MAX_QUOTA => f.add(
            Severity::Error,
            "SIZE_EXCEEDS_QUOTA",
            "",
            format!("trust policy is {size} characters; no account may exceed {TRUST_POLICY_MAX_QUOTA}"),
        ),
        PolicyKind::Trust if size > TRUST_POLICY_DEFAULT_QUOTA => f.add(
            Severity::Warning,
            "SIZE_EXCEEDS_DEFAULT_QUOTA",
            "",
            format!(
                "trust policy is {size} characters, over the default {TRUST_POLICY_DEFAULT_QUOTA}: \
                 it only fits where `ACLSizePerRole` was raised"
            ),
        ),
        PolicyKind::Identity if size > ROLE_INLINE_POLICIES_QUOTA => f.add(
            Severity::Error,
            "SIZE_EXCEEDS_QUOTA",
            "",
            format!("policy is {size} characters; a role's inline policies may total {ROLE_INLINE_POLICIES_QUOTA}"),
        ),
        _ => {}
    }
    f.0.extend(validate_value(&value, kind));
    f.0
}

/// Validate an already-parsed document (no size checks).
pub fn validate_value(doc: &Value, kind: PolicyKind) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    let Some(obj) = doc.as_object() else {
        f.add(Severity::Error, "INVALID_DOCUMENT", "", format!("expected a JSON object, found {}", kind_of(doc)));
        return f.0;
    };
    for key in obj.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            f.add(Severity::Error, "UNKNOWN_ELEMENT", key.as_str(), format!("unknown element `{key}`"));
        }
    }
    match obj.get("Version") {
        None => f.add(
            Severity::Warning,
            "MISSING_VERSION",
            "",
            format!(
                "no `Version`: IAM assumes `{VERSION_2008}`, which has no policy variables; write `{VERSION_2012}`"
            ),
        ),
        Some(Value::String(v)) if v == VERSION_2012 => {}
        Some(Value::String(v)) if v == VERSION_2008 => f.add(
            Severity::Suggestion,
            "OLD_VERSION",
            "Version",
            format!("`{VERSION_2008}` has no policy variables; prefer `{VERSION_2012}`"),
        ),
        Some(v) => f.add(
            Severity::Error,
            "INVALID_VERSION",
            "Version",
            format!("expected `{VERSION_2012}` or `{VERSION_2008}`, found {}", short(v)),
        ),
    }
    if let Some(id) = obj.get("Id") {
        if !id.is_string() {
            f.add(Severity::Error, "INVALID_ELEMENT", "Id", format!("expected a string, found {}", kind_of(id)));
        }
    }
    let stmts: Vec<(String, &Value)> = match obj.get("Statement") {
        None => {
            f.add(Severity::Error, "MISSING_STATEMENT", "", "no `Statement`: a policy needs at least one statement");
            return f.0;
        }
        Some(Value::Array(items)) => items.iter().enumerate().map(|(i, s)| (format!("Statement[{i}]"), s)).collect(),
        Some(s @ Value::Object(_)) => vec![("Statement".to_string(), s)],
        Some(other) => {
            f.add(
                Severity::Error,
                "INVALID_ELEMENT",
                "Statement",
                format!("expected an object or an array, found {}", kind_of(other)),
            );
            return f.0;
        }
    };
    if stmts.is_empty() {
        f.add(Severity::Error, "EMPTY_STATEMENT", "Statement", "the statement list is empty");
    }
    let mut sids: Vec<&str> = Vec::new();
    for (path, stmt) in &stmts {
        let Some(map) = stmt.as_object() else {
            f.add(
                Severity::Error,
                "INVALID_ELEMENT",
                path.as_str(),
                format!("expected a statement object, found {}", kind_of(stmt)),
            );
            continue;
        };
        structure(&mut f, map, path, kind, &mut sids);
        match Statement::parse_at(stmt, path) {
            Ok(parsed) => review(&mut f, &parsed, path, kind),
            Err(PolicyError::Invalid { path: p, message }) => {
                // Structural findings above already cover missing/unknown elements.
                if !message.starts_with("missing") && !f.0.iter().any(|x| x.path == p) {
                    f.add(Severity::Error, "INVALID_ELEMENT", p, message);
                }
            }
            Err(other) => f.add(Severity::Error, "INVALID_ELEMENT", path.as_str(), other.to_string()),
        }
    }
    f.0
}

fn short(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => kind_of(other).to_string(),
    }
}

fn structure<'a>(f: &mut Findings, map: &'a Map<String, Value>, path: &str, kind: PolicyKind, sids: &mut Vec<&'a str>) {
    let at = |k: &str| format!("{path}.{k}");
    for key in map.keys() {
        if !matches!(
            key.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            f.add(Severity::Error, "UNKNOWN_ELEMENT", at(key), format!("unknown statement element `{key}`"));
        }
    }
    if let Some(sid) = map.get("Sid") {
        match sid.as_str() {
            Some(s) => {
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    let severity = if kind == PolicyKind::Trust { Severity::Error } else { Severity::Warning };
                    f.add(
                        severity,
                        "INVALID_SID",
                        at("Sid"),
                        format!("`{s}`: a Sid may only contain ASCII letters and digits"),
                    );
                }
                if sids.contains(&s) {
                    f.add(
                        Severity::Error,
                        "DUPLICATE_SID",
                        at("Sid"),
                        format!("Sid `{s}` is used by more than one statement"),
                    );
                } else {
                    sids.push(s);
                }
            }
            None => {
                f.add(Severity::Error, "INVALID_SID", at("Sid"), format!("expected a string, found {}", kind_of(sid)))
            }
        }
    }
    match map.get("Effect") {
        None => f.add(Severity::Error, "MISSING_EFFECT", path, "no `Effect`: expected `Allow` or `Deny`"),
        Some(Value::String(e)) if e == "Allow" || e == "Deny" => {}
        Some(Value::String(e)) if crate::model::parse_effect(e).is_some() => {
            f.add(Severity::Warning, "EFFECT_CASE", at("Effect"), format!("`{e}`: IAM spells it `Allow` or `Deny`"))
        }
        Some(e) => f.add(
            Severity::Error,
            "INVALID_EFFECT",
            at("Effect"),
            format!("expected `Allow` or `Deny`, found {}", short(e)),
        ),
    }
    let has = |k: &str| map.contains_key(k);
    match (has("Action"), has("NotAction")) {
        (true, true) => f.add(
            Severity::Error,
            "ACTION_AND_NOT_ACTION",
            path,
            "a statement may have `Action` or `NotAction`, not both",
        ),
        (false, false) => f.add(Severity::Error, "MISSING_ACTION", path, "a statement needs `Action` or `NotAction`"),
        _ => {}
    }
    for k in ["Action", "NotAction", "Resource", "NotResource"] {
        if matches!(map.get(k), Some(Value::Array(a)) if a.is_empty()) {
            f.add(Severity::Error, "EMPTY_ELEMENT", at(k), format!("`{k}` is an empty list"));
        }
    }
    if has("Resource") && has("NotResource") {
        f.add(
            Severity::Error,
            "RESOURCE_AND_NOT_RESOURCE",
            path,
            "a statement may have `Resource` or `NotResource`, not both",
        );
    }
    if has("Principal") && has("NotPrincipal") {
        f.add(
            Severity::Error,
            "PRINCIPAL_AND_NOT_PRINCIPAL",
            path,
            "a statement may have `Principal` or `NotPrincipal`, not both",
        );
    }
    match kind {
        PolicyKind::Trust => {
            for k in ["Resource", "NotResource"] {
                if has(k) {
                    f.add(
                        Severity::Error,
                        "RESOURCE_IN_TRUST_POLICY",
                        at(k),
                        format!("a trust policy must not have `{k}`: the role itself is the resource"),
                    );
                }
            }
            if !has("Principal") && !has("NotPrincipal") {
                f.add(Severity::Error, "MISSING_PRINCIPAL", path, "a trust policy statement needs `Principal`");
            }
        }
        PolicyKind::Identity => {
            for k in ["Principal", "NotPrincipal"] {
                if has(k) {
                    f.add(
                        Severity::Error,
                        "PRINCIPAL_IN_IDENTITY_POLICY",
                        at(k),
                        format!("an identity policy must not have `{k}`"),
                    );
                }
            }
            if !has("Resource") && !has("NotResource") {
                f.add(
                    Severity::Error,
                    "MISSING_RESOURCE",
                    path,
                    "an identity policy statement needs `Resource` or `NotResource`",
                );
            }
        }
    }
}

fn actions_of(s: &Statement) -> &[String] {
    s.action.as_deref().unwrap_or(&[])
}

fn review(f: &mut Findings, s: &Statement, path: &str, kind: PolicyKind) {
    let at = |k: &str| format!("{path}.{k}");
    let allow = s.effect == Effect::Allow;
    for (name, p) in [("Principal", &s.principal), ("NotPrincipal", &s.not_principal)] {
        let Some(p) = p else { continue };
        for (i, v) in p.aws().iter().enumerate() {
            if is_unique_id(v) {
                f.add(
                    Severity::Error,
                    "UNIQUE_ID_PRINCIPAL",
                    format!("{}.AWS[{i}]", at(name)),
                    format!(
                        "`{v}` is a unique ID: the role or user this principal named was deleted, so the trust is broken \
                         (recreating it does not restore the trust); name the ARN again"
                    ),
                );
            }
        }
    }
    if allow && s.not_principal.is_some() {
        f.add(
            Severity::Warning,
            "ALLOW_WITH_NOT_PRINCIPAL",
            at("NotPrincipal"),
            "`Allow` with `NotPrincipal` grants everyone not listed",
        );
    }
    if allow && s.not_action.is_some() {
        f.add(
            Severity::Warning,
            "ALLOW_WITH_NOT_ACTION",
            at("NotAction"),
            "`Allow` with `NotAction` grants every action not listed",
        );
    }
    for (i, a) in actions_of(s).iter().enumerate() {
        if !allow {
            break;
        }
        if a == "*" || a.eq_ignore_ascii_case("sts:*") {
            f.add(
                Severity::SecurityWarning,
                "WILDCARD_ACTION",
                format!("{}[{i}]", at("Action")),
                format!("`{a}` allows every action it covers; name the actions instead"),
            );
        }
    }
    match kind {
        PolicyKind::Trust => review_trust(f, s, path),
        PolicyKind::Identity => {
            let passes = actions_of(s).iter().any(|a| action_matches(a, "iam:PassRole"));
            let any_resource = s.resource.as_deref().is_some_and(|r| r.iter().any(|x| x == "*"));
            if allow && passes && any_resource {
                f.add(
                    Severity::SecurityWarning,
                    "PASS_ROLE_WILDCARD",
                    at("Resource"),
                    "`iam:PassRole` on `*` lets the holder pass any role to a service; name the roles",
                );
            }
        }
    }
}

fn review_trust(f: &mut Findings, s: &Statement, path: &str) {
    let at = |k: &str| format!("{path}.{k}");
    let allow = s.effect == Effect::Allow;
    for (i, a) in actions_of(s).iter().enumerate() {
        let lower = a.to_ascii_lowercase();
        if !(lower == "*" || lower.starts_with("sts:")) {
            f.add(
                Severity::Error,
                "NON_STS_ACTION_IN_TRUST_POLICY",
                format!("{}[{i}]", at("Action")),
                format!("`{a}`: a trust policy may only grant `sts:` actions"),
            );
        }
    }
    let open = match &s.principal {
        Some(Principal::Any) => true,
        Some(p) => p.aws().iter().any(|v| v == "*"),
        None => s.not_principal.is_some(),
    };
    if allow && open && s.conditions.is_empty() {
        f.add(
            Severity::SecurityWarning,
            "OPEN_TRUST",
            at(if s.principal.is_some() { "Principal" } else { "NotPrincipal" }),
            "any AWS principal may assume this role: there is no condition restricting who",
        );
    }
    let assumes = actions_of(s).iter().any(|a| action_matches(a, "sts:AssumeRole"));
    if allow && assumes {
        for c in &s.conditions {
            let key = c.key.to_ascii_lowercase();
            let null_only = c.operator == "Null";
            if null_only && c.values.iter().all(|v| v == "true") {
                continue;
            }
            if key == "sts:sourceidentity" {
                f.add(
                    Severity::Warning,
                    "REQUIRES_SOURCE_IDENTITY",
                    format!("{}.{}.{}", at("Condition"), c.operator, c.key),
                    "the statement requires `sts:SourceIdentity`, which CAPA never sets: CAPA cannot assume this role",
                );
            } else if glob_match("aws:requesttag/*", &key, false) || key == "aws:tagkeys" {
                f.add(
                    Severity::Warning,
                    "REQUIRES_SESSION_TAGS",
                    format!("{}.{}.{}", at("Condition"), c.operator, c.key),
                    "the statement requires session tags (`sts:TagSession`), which CAPA never sends: CAPA cannot assume this role",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(doc: &str, kind: PolicyKind) -> Vec<&'static str> {
        validate(doc, kind).into_iter().map(|f| f.code).collect()
    }

    fn finding(doc: &str, kind: PolicyKind, code: &str) -> Finding {
        validate(doc, kind)
            .into_iter()
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("no {code} in {:?}", validate(doc, kind)))
    }

    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Capa","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io"},"Action":"sts:AssumeRole"}]}"#;
    const IDENTITY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/control-plane.cluster-api-provider-aws.sigs.k8s.io"}]}"#;

    #[test]
    fn valid_documents_have_no_findings() {
        assert!(validate(TRUST, PolicyKind::Trust).is_empty(), "{:?}", validate(TRUST, PolicyKind::Trust));
        assert!(validate(IDENTITY, PolicyKind::Identity).is_empty());
        let enc: String = TRUST.bytes().map(|b| format!("%{b:02X}")).collect();
        assert!(validate(&enc, PolicyKind::Trust).is_empty());
    }

    #[test]
    fn invalid_json_and_encoding() {
        let f = finding("{\"Version\": }", PolicyKind::Trust, "INVALID_JSON");
        assert!(f.message.contains("line 1"), "{}", f.message);
        assert_eq!(codes("%7B%G", PolicyKind::Trust), ["INVALID_ENCODING"]);
        assert_eq!(codes("[]", PolicyKind::Trust), ["INVALID_DOCUMENT"]);
    }

    #[test]
    fn version_rules() {
        assert!(
            codes(&TRUST.replace("\"Version\":\"2012-10-17\",", ""), PolicyKind::Trust).contains(&"MISSING_VERSION")
        );
        let f = finding(&TRUST.replace("2012-10-17", "2012-10-18"), PolicyKind::Trust, "INVALID_VERSION");
        assert_eq!((f.severity, f.path.as_str()), (Severity::Error, "Version"));
        assert_eq!(codes(&TRUST.replace("2012-10-17", "2008-10-17"), PolicyKind::Trust), ["OLD_VERSION"]);
    }

    #[test]
    fn effect_must_be_allow_or_deny() {
        let f = finding(&TRUST.replace("\"Allow\"", "\"Permit\""), PolicyKind::Trust, "INVALID_EFFECT");
        assert_eq!(f.path, "Statement[0].Effect");
        assert_eq!(codes(&TRUST.replace("\"Effect\":\"Allow\",", ""), PolicyKind::Trust), ["MISSING_EFFECT"]);
        let f = finding(&TRUST.replace("\"Allow\"", "\"allow\""), PolicyKind::Trust, "EFFECT_CASE");
        assert_eq!(f.severity, Severity::Warning);
    }

    #[test]
    fn sid_alphanumeric_in_trust_policies() {
        let f = finding(&TRUST.replace("\"Capa\"", "\"xacct-dev\""), PolicyKind::Trust, "INVALID_SID");
        assert_eq!(f.severity, Severity::Error);
        let dup =
            TRUST.replace("}]}", r#"},{"Sid":"Capa","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}]}"#);
        assert!(codes(&dup, PolicyKind::Trust).contains(&"DUPLICATE_SID"));
    }

    #[test]
    fn statements_must_be_non_empty() {
        assert_eq!(codes(r#"{"Version":"2012-10-17","Statement":[]}"#, PolicyKind::Trust), ["EMPTY_STATEMENT"]);
        assert_eq!(codes(r#"{"Version":"2012-10-17"}"#, PolicyKind::Trust), ["MISSING_STATEMENT"]);
    }

    #[test]
    fn action_xor_not_action() {
        let both = TRUST.replace("\"Action\"", "\"NotAction\":\"sts:TagSession\",\"Action\"");
        assert!(codes(&both, PolicyKind::Trust).contains(&"ACTION_AND_NOT_ACTION"));
        let none = TRUST.replace(",\"Action\":\"sts:AssumeRole\"", "");
        assert!(codes(&none, PolicyKind::Trust).contains(&"MISSING_ACTION"));
    }

    #[test]
    fn resource_xor_not_resource_and_required_in_identity() {
        let both = IDENTITY.replace("\"Resource\"", "\"NotResource\":\"x\",\"Resource\"");
        assert!(codes(&both, PolicyKind::Identity).contains(&"RESOURCE_AND_NOT_RESOURCE"));
        let none = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#;
        assert_eq!(codes(none, PolicyKind::Identity), ["MISSING_RESOURCE"]);
    }

    #[test]
    fn trust_policy_must_not_have_resource() {
        let with = TRUST.replace("\"Action\"", "\"Resource\":\"*\",\"Action\"");
        let f = finding(&with, PolicyKind::Trust, "RESOURCE_IN_TRUST_POLICY");
        assert_eq!(f.path, "Statement[0].Resource");
    }

    #[test]
    fn principal_required_in_trust_forbidden_in_identity() {
        let none = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#;
        let f = finding(none, PolicyKind::Trust, "MISSING_PRINCIPAL");
        assert_eq!(f.path, "Statement");
        let f = finding(TRUST, PolicyKind::Identity, "PRINCIPAL_IN_IDENTITY_POLICY");
        assert_eq!(f.path, "Statement[0].Principal");
    }

    #[test]
    fn unknown_and_mistyped_elements() {
        let f =
            finding(&TRUST.replace("\"Action\"", "\"Actions\":\"x\",\"Action\""), PolicyKind::Trust, "UNKNOWN_ELEMENT");
        assert_eq!(f.path, "Statement[0].Actions");
        let f = finding(&TRUST.replace("\"sts:AssumeRole\"", "7"), PolicyKind::Trust, "INVALID_ELEMENT");
        assert_eq!(f.path, "Statement[0].Action");
        assert!(codes(&TRUST.replace("{\"Version\"", "{\"Foo\":1,\"Version\""), PolicyKind::Trust)
            .contains(&"UNKNOWN_ELEMENT"));
    }

    #[test]
    fn open_trust_without_condition_is_security_warning() {
        let open = TRUST.replace(
            r#"{"AWS":"arn:aws:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io"}"#,
            "\"*\"",
        );
        let f = finding(&open, PolicyKind::Trust, "OPEN_TRUST");
        assert_eq!((f.severity, f.path.as_str()), (Severity::SecurityWarning, "Statement[0].Principal"));
        let aws_star =
            TRUST.replace("arn:aws:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io", "*");
        assert!(codes(&aws_star, PolicyKind::Trust).contains(&"OPEN_TRUST"));
        let conditioned = open.replace(
            "\"Action\":\"sts:AssumeRole\"",
            r#""Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}"#,
        );
        assert!(!codes(&conditioned, PolicyKind::Trust).contains(&"OPEN_TRUST"));
    }

    #[test]
    fn wildcard_actions_are_flagged() {
        let f = finding(&TRUST.replace("\"sts:AssumeRole\"", "\"sts:*\""), PolicyKind::Trust, "WILDCARD_ACTION");
        assert_eq!((f.severity, f.path.as_str()), (Severity::SecurityWarning, "Statement[0].Action[0]"));
        assert!(
            codes(&IDENTITY.replace("\"sts:AssumeRole\"", "\"*\""), PolicyKind::Identity).contains(&"WILDCARD_ACTION")
        );
    }

    #[test]
    fn non_sts_action_in_trust_policy() {
        assert!(codes(
            &TRUST.replace("\"sts:AssumeRole\"", "[\"sts:AssumeRole\",\"s3:GetObject\"]"),
            PolicyKind::Trust
        )
        .contains(&"NON_STS_ACTION_IN_TRUST_POLICY"));
    }

    #[test]
    fn pass_role_on_star() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Pass*"],"Resource":"*"}]}"#;
        let f = finding(doc, PolicyKind::Identity, "PASS_ROLE_WILDCARD");
        assert_eq!(f.severity, Severity::SecurityWarning);
        let named = doc.replace("\"*\"", "\"arn:aws:iam::1:role/x\"");
        assert!(!codes(&named, PolicyKind::Identity).contains(&"PASS_ROLE_WILDCARD"));
    }

    #[test]
    fn unique_id_principal_is_broken_trust() {
        let broken = TRUST.replace(
            "arn:aws:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io",
            "AROAEXAMPLEUNIQUEID12",
        );
        let f = finding(&broken, PolicyKind::Trust, "UNIQUE_ID_PRINCIPAL");
        assert_eq!((f.severity, f.path.as_str()), (Severity::Error, "Statement[0].Principal.AWS[0]"));
        assert!(has_errors(&validate(&broken, PolicyKind::Trust)));
    }

    #[test]
    fn trust_requiring_source_identity_or_tags_warns() {
        let si = TRUST.replace("\"Action\":\"sts:AssumeRole\"", r#""Action":["sts:AssumeRole","sts:SetSourceIdentity"],"Condition":{"StringLike":{"sts:SourceIdentity":"*"}}"#);
        let f = finding(&si, PolicyKind::Trust, "REQUIRES_SOURCE_IDENTITY");
        assert_eq!(
            (f.severity, f.path.as_str()),
            (Severity::Warning, "Statement[0].Condition.StringLike.sts:SourceIdentity")
        );
        let tags = TRUST.replace(
            "\"Action\":\"sts:AssumeRole\"",
            r#""Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/team":"x"}}"#,
        );
        assert!(codes(&tags, PolicyKind::Trust).contains(&"REQUIRES_SESSION_TAGS"));
        let forbids = TRUST.replace(
            "\"Action\":\"sts:AssumeRole\"",
            r#""Action":"sts:AssumeRole","Condition":{"Null":{"sts:SourceIdentity":"true"}}"#,
        );
        assert!(validate(&forbids, PolicyKind::Trust).is_empty());
    }

    #[test]
    fn size_quota_findings() {
        let stmt = r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io"},"Action":"sts:AssumeRole"}"#;
        let doc = |n: usize| format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, vec![stmt; n].join(","));
        assert_eq!(finding(&doc(16), PolicyKind::Trust, "SIZE_EXCEEDS_DEFAULT_QUOTA").severity, Severity::Warning);
        assert_eq!(finding(&doc(40), PolicyKind::Trust, "SIZE_EXCEEDS_QUOTA").severity, Severity::Error);
    }

    #[test]
    fn finding_display_and_severity_order() {
        let f = finding(TRUST, PolicyKind::Identity, "PRINCIPAL_IN_IDENTITY_POLICY");
        assert!(f.to_string().starts_with("ERROR PRINCIPAL_IN_IDENTITY_POLICY at `Statement[0].Principal`"));
        assert!(Severity::Error < Severity::SecurityWarning && Severity::Warning < Severity::Suggestion);
    }
}
