//! A static evaluator for one question: may principal `P` call `sts:AssumeRole` on
//! role `R`, given `P`'s identity policies and `R`'s trust policy?
//!
//! Modelled: explicit deny wins; `*`/`?` wildcards in actions (case-insensitive) and
//! resources; principals by ARN, by account (`123456789012` or
//! `arn:<partition>:iam::123456789012:root` in the caller's partition, which delegate to
//! the account's identity policies) and `*`; the condition operators trust policies use. Not modelled: SCPs,
//! RCPs, permission boundaries, session policies and policy variables; condition keys
//! other than `sts:ExternalId`, `aws:PrincipalArn`, `aws:PrincipalAccount`,
//! `aws:PrincipalOrgID` and `aws:ResourceOrgID` are treated as absent (with a note).

use crate::model::{is_unique_id, Effect, Policy, Principal, Statement};

/// The action being evaluated.
pub const ASSUME_ROLE: &str = "sts:AssumeRole";
/// The name given to the trust policy in [`StatementRef::policy`].
pub const TRUST_POLICY_NAME: &str = "trust";

/// The request being asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssumeRoleRequest {
    /// The caller's IAM ARN (`arn:<partition>:iam::<acct>:role/<name>`); an STS
    /// assumed-role session ARN is mapped to its role in the same partition.
    pub principal_arn: String,
    /// The caller's account; derived from `principal_arn` when `None`.
    pub principal_account: Option<String>,
    /// `sts:ExternalId` sent with the request, if any.
    pub external_id: Option<String>,
    /// `aws:PrincipalOrgID`, if the caller's account is in an organization.
    pub principal_org_id: Option<String>,
    /// `aws:ResourceOrgID`, if the role's account is in an organization.
    pub resource_org_id: Option<String>,
}

/// An identity policy with the name it is reported under.
#[derive(Debug, Clone, Copy)]
pub struct NamedPolicy<'a> {
    /// The policy name (inline name or managed ARN).
    pub name: &'a str,
    /// The document.
    pub policy: &'a Policy,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Both sides needed allow the call and nothing denies it.
    Allowed,
    /// Nothing denies it, but an allow that is needed is missing.
    ImplicitDeny,
    /// A matching `Deny` statement.
    ExplicitDeny,
}

/// A statement that decided the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    /// [`TRUST_POLICY_NAME`] or the identity policy's name.
    pub policy: String,
    /// Index in the policy's statement list.
    pub index: usize,
    /// The statement's `Sid`.
    pub sid: Option<String>,
}

/// The outcome, the statements that decided it, and notes explaining it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allowed or why not.
    pub outcome: Outcome,
    /// For `Allowed`: the allowing statements used; for `ExplicitDeny`: the denying
    /// statements; empty for `ImplicitDeny`.
    pub deciding: Vec<StatementRef>,
    /// Human-readable explanations and approximations made.
    pub notes: Vec<String>,
}

impl Decision {
    /// Whether the outcome is [`Outcome::Allowed`].
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allowed
    }
}

/// Glob match with `*` (any run) and `?` (one character).
pub fn glob_match(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        if ignore_case {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let p = norm(pattern);
    let v = norm(value);
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        // `*` first: in the pattern it is always a wildcard, even where the value has a `*`.
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Whether an `Action` pattern covers `action` (case-insensitive, wildcards).
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob_match(pattern, action, true)
}

/// ARN match as `ArnLike`/`ArnEquals` do: component by component (six parts split
/// on the first five colons), wildcards within each component, case-sensitive.
pub fn arn_match(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() != 6 || a.len() != 6 {
        return pattern == "*" || pattern == arn;
    }
    p.iter().zip(&a).all(|(pp, aa)| glob_match(pp, aa, false))
}

/// The account of an ARN (`arn:partition:service:region:account:resource`).
pub fn arn_account(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn" && !parts[4].is_empty()).then(|| parts[4])
}

/// How a trust statement's principal covers the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PrincipalMatch {
    No,
    /// By account: the account's identity policies must allow too.
    Account,
    /// By ARN or `*`: enough on its own in the same account.
    Direct,
}

/// The partition of an ARN (`arn:<partition>:…`).
fn arn_partition(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn" && !parts[1].is_empty()).then(|| parts[1])
}

struct Ctx<'a> {
    principal_arn: String,
    principal_account: String,
    role_arn: &'a str,
    req: &'a AssumeRoleRequest,
    notes: Vec<String>,
}

impl Ctx<'_> {
    fn note(&mut self, n: String) {
        if !self.notes.contains(&n) {
            self.notes.push(n);
        }
    }

    fn key_values(&mut self, key: &str) -> Option<Vec<String>> {
        match key.to_ascii_lowercase().as_str() {
            "sts:externalid" => self.req.external_id.clone().map(|v| vec![v]),
            "aws:principalarn" => Some(vec![self.principal_arn.clone()]),
            "aws:principalaccount" => Some(vec![self.principal_account.clone()]),
            "aws:principalorgid" => self.req.principal_org_id.clone().map(|v| vec![v]),
            "aws:resourceorgid" => self.req.resource_org_id.clone().map(|v| vec![v]),
            _ => {
                self.note(format!("condition key `{key}` is not modelled; treated as absent from the request"));
                None
            }
        }
    }

    fn principal_match_one(&mut self, p: &Principal) -> PrincipalMatch {
        match p {
            Principal::Any => PrincipalMatch::Direct,
            Principal::Typed(_) => {
                let mut best = PrincipalMatch::No;
                for v in p.aws() {
                    let m = if v == "*" || *v == self.principal_arn {
                        PrincipalMatch::Direct
                    } else if *v == self.principal_account || self.is_callers_root(v) {
                        PrincipalMatch::Account
                    } else {
                        if is_unique_id(v) {
                            self.note(format!(
                                "principal `{v}` is a unique ID (the role or user it named was deleted); it matches no caller"
                            ));
                        }
                        PrincipalMatch::No
                    };
                    best = best.max(m);
                }
                best
            }
        }
    }

    /// `arn:<partition>:iam::<account>:root` of the caller's account, in its partition.
    fn is_callers_root(&self, v: &str) -> bool {
        let parts: Vec<&str> = v.splitn(6, ':').collect();
        match parts[..] {
            ["arn", partition, "iam", "", account, "root"] => {
                !partition.is_empty()
                    && account == self.principal_account
                    && arn_partition(&self.principal_arn).is_none_or(|p| p == partition)
            }
            _ => false,
        }
    }

    fn principal_match(&mut self, s: &Statement) -> PrincipalMatch {
        if let Some(p) = &s.principal {
            self.principal_match_one(p)
        } else if let Some(np) = &s.not_principal {
            match self.principal_match_one(np) {
                PrincipalMatch::No => PrincipalMatch::Direct,
                _ => PrincipalMatch::No,
            }
        } else {
            PrincipalMatch::No
        }
    }

    fn action_applies(s: &Statement) -> bool {
        match (&s.action, &s.not_action) {
            (Some(a), _) => a.iter().any(|p| action_matches(p, ASSUME_ROLE)),
            (None, Some(na)) => !na.iter().any(|p| action_matches(p, ASSUME_ROLE)),
            (None, None) => false,
        }
    }

    fn resource_applies(&self, s: &Statement, required: bool) -> bool {
        match (&s.resource, &s.not_resource) {
            (Some(r), _) => r.iter().any(|p| glob_match(p, self.role_arn, false)),
            (None, Some(nr)) => !nr.iter().any(|p| glob_match(p, self.role_arn, false)),
            (None, None) => !required,
        }
    }

    fn conditions_hold(&mut self, s: &Statement) -> bool {
        let mut all = true;
        for c in &s.conditions {
            if !self.clause_holds(&c.operator, &c.key, &c.values) {
                all = false;
            }
        }
        all
    }

    fn clause_holds(&mut self, operator: &str, key: &str, values: &[String]) -> bool {
        let (set, rest) = if let Some(r) = operator.strip_prefix("ForAnyValue:") {
            (Some(true), r)
        } else if let Some(r) = operator.strip_prefix("ForAllValues:") {
            (Some(false), r)
        } else {
            (None, operator)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let ctx = self.key_values(key);
        if base == "Null" {
            let present = ctx.is_some();
            return values
                .iter()
                .any(|v| (v.eq_ignore_ascii_case("true") && !present) || (v.eq_ignore_ascii_case("false") && present));
        }
        type Matcher = fn(&str, &str) -> bool;
        let (matcher, negated): (Matcher, bool) = match base {
            "StringEquals" => (|p, v| p == v, false),
            "StringNotEquals" => (|p, v| p == v, true),
            "StringEqualsIgnoreCase" => (|p, v| p.to_lowercase() == v.to_lowercase(), false),
            "StringNotEqualsIgnoreCase" => (|p, v| p.to_lowercase() == v.to_lowercase(), true),
            "StringLike" => (|p, v| glob_match(p, v, false), false),
            "StringNotLike" => (|p, v| glob_match(p, v, false), true),
            "ArnEquals" | "ArnLike" => (arn_match, false),
            "ArnNotEquals" | "ArnNotLike" => (arn_match, true),
            "Bool" => (|p, v| p.eq_ignore_ascii_case(v), false),
            _ => {
                self.note(format!("condition operator `{operator}` is not supported; treated as not matched"));
                return false;
            }
        };
        if values.iter().any(|v| v.contains("${")) {
            self.note(format!("policy variables in `{operator}` `{key}` are compared literally"));
        }
        let Some(ctx) = ctx else {
            return if_exists
                || match set {
                    Some(true) => false,
                    Some(false) => true,
                    None => negated,
                };
        };
        let pred = |v: &String| values.iter().any(|p| matcher(p, v)) != negated;
        match set {
            Some(false) => ctx.iter().all(pred),
            _ => ctx.iter().any(pred),
        }
    }
}

fn stmt_ref(policy: &str, index: usize, s: &Statement) -> StatementRef {
    StatementRef { policy: policy.to_string(), index, sid: s.sid.clone() }
}

fn describe(r: &StatementRef) -> String {
    match &r.sid {
        Some(sid) => format!("`{}` statement {} (Sid `{sid}`)", r.policy, r.index),
        None => format!("`{}` statement {}", r.policy, r.index),
    }
}

/// Decide whether `request`'s principal may call `sts:AssumeRole` on `role_arn`.
///
/// Cross-account, both sides must allow: the caller's identity policies (on the
/// role's ARN) and the role's trust policy (naming the caller, its account, or `*`).
/// Same-account, a trust statement naming the caller (or `*`) suffices; one naming
/// only the account delegates to the identity policies. Any matching `Deny` wins.
pub fn evaluate_assume_role(
    request: &AssumeRoleRequest,
    role_arn: &str,
    trust: &Policy,
    identity_policies: &[NamedPolicy<'_>],
) -> Decision {
    let mut principal_arn = request.principal_arn.clone();
    let mut notes = Vec::new();
    let session = principal_arn
        .split_once(":sts::")
        .filter(|(head, _)| head.strip_prefix("arn:").is_some_and(|p| !p.is_empty() && !p.contains(':')));
    if let Some((head, rest)) = session {
        if let Some((acct, path)) = rest.split_once(":assumed-role/") {
            let role = path.split('/').next().unwrap_or_default();
            let mapped = format!("{head}:iam::{acct}:role/{role}");
            notes.push(format!(
                "`{principal_arn}` is a session; evaluated as its role `{mapped}` (a role path, if any, is not known)"
            ));
            principal_arn = mapped;
        }
    }
    let principal_account = request
        .principal_account
        .clone()
        .or_else(|| arn_account(&principal_arn).map(str::to_string))
        .unwrap_or_default();
    if principal_account.is_empty() {
        notes.push(format!("cannot tell the account of `{principal_arn}`"));
    }
    let role_account = arn_account(role_arn).unwrap_or_default().to_string();
    if role_account.is_empty() {
        notes.push(format!("`{role_arn}` is not a role ARN; evaluated as cross-account"));
    }
    let same_account = !role_account.is_empty() && role_account == principal_account;
    let mut ctx = Ctx { principal_arn, principal_account, role_arn, req: request, notes };

    let mut denies = Vec::new();
    let mut trust_allows: Vec<(StatementRef, PrincipalMatch)> = Vec::new();
    for (i, s) in trust.statements.iter().enumerate() {
        if !Ctx::action_applies(s) || !ctx.resource_applies(s, false) {
            continue;
        }
        let m = ctx.principal_match(s);
        if m == PrincipalMatch::No || !ctx.conditions_hold(s) {
            continue;
        }
        let r = stmt_ref(TRUST_POLICY_NAME, i, s);
        match s.effect {
            Effect::Deny => denies.push(r),
            Effect::Allow => trust_allows.push((r, m)),
        }
    }
    let mut identity_allows = Vec::new();
    for np in identity_policies {
        for (i, s) in np.policy.statements.iter().enumerate() {
            if s.principal.is_some() || s.not_principal.is_some() {
                ctx.note(format!("`{}` statement {i} has a principal; ignored in an identity policy", np.name));
                continue;
            }
            if !Ctx::action_applies(s) || !ctx.resource_applies(s, true) || !ctx.conditions_hold(s) {
                continue;
            }
            let r = stmt_ref(np.name, i, s);
            match s.effect {
                Effect::Deny => denies.push(r),
                Effect::Allow => identity_allows.push(r),
            }
        }
    }

    let mut notes = ctx.notes;
    if !denies.is_empty() {
        for d in &denies {
            notes.push(format!("denied explicitly by {}", describe(d)));
        }
        return Decision { outcome: Outcome::ExplicitDeny, deciding: denies, notes };
    }
    let direct: Vec<StatementRef> =
        trust_allows.iter().filter(|(_, m)| *m == PrincipalMatch::Direct).map(|(r, _)| r.clone()).collect();
    let trust_refs: Vec<StatementRef> = trust_allows.iter().map(|(r, _)| r.clone()).collect();
    let caller = request.principal_arn.as_str();
    let (allowed, deciding) = if trust_allows.is_empty() {
        notes.push(format!(
            "no statement of the trust policy of `{role_arn}` allows `{caller}` to call `{ASSUME_ROLE}`"
        ));
        (false, Vec::new())
    } else if same_account && !direct.is_empty() {
        (true, direct)
    } else if identity_allows.is_empty() {
        if same_account {
            notes.push(format!(
                "the trust policy trusts the account, not `{caller}` itself, and no identity policy allows `{ASSUME_ROLE}` on `{role_arn}`"
            ));
        } else {
            notes.push(format!(
                "cross-account: no identity policy of `{caller}` allows `{ASSUME_ROLE}` on `{role_arn}`"
            ));
        }
        (false, Vec::new())
    } else {
        let mut d = trust_refs;
        d.extend(identity_allows);
        (true, d)
    };
    Decision { outcome: if allowed { Outcome::Allowed } else { Outcome::ImplicitDeny }, deciding, notes }
}

#[cfg(test)]
mod partitions;
#[cfg(test)]
mod tests;
