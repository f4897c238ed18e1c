//! A static evaluator for one question: may principal `P` call `sts:AssumeRole` on
//! role `R`, given `P`'s identity policies and `R`'s trust policy?
//!
//! Modelled: explicit deny wins; `*`/`?` wildcards in actions (case-insensitive) and
//! resources; principals by ARN, by account (`123456789012` or
//! `arn:<partition>:iam::123456789012:root` in the caller's partition, which delegate to
//! the account's identity policies) and `*`; the condition operators trust policies use. Not modelled: SCPs,
//! RCPs, permission boundaries, session policies and policy variables; condition keys
//! other than `sts:ExternalId`, `aws:PrincipalArn`, `aws:PrincipalAccount`,
//! `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:ResourceOrgID` and
//! `aws:ResourceOrgPaths` are treated as absent (with a note).
//!
//! A key the caller declares unknown ([`AssumeRoleRequest::unknown_keys`]: for instance
//! Organizations could not be read) is neither present nor absent: a statement whose
//! conditions hinge on it is undecided, and when the outcome depends on such a statement it
//! is [`Outcome::NotProven`], with the reason in the notes — never `Allowed`.

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
    /// `aws:PrincipalOrgPaths` (multivalued: `o-…/r-…/ou-…/`), if the caller's account is in an
    /// organization.
    pub principal_org_paths: Option<Vec<String>>,
    /// `aws:ResourceOrgPaths` (multivalued: `o-…/r-…/ou-…/`, one per path of the role's
    /// account), if the role's account is in an organization.
    pub resource_org_paths: Option<Vec<String>>,
    /// Keys whose value is not known: these override the fields above.
    pub unknown_keys: Vec<UnknownKey>,
}

/// A condition key whose value the caller does not know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnknownKey {
    /// The key (`aws:ResourceOrgPaths`), matched case-insensitively.
    pub key: String,
    /// Why it is not known, for the notes (`Organizations could not be read: …`).
    pub reason: String,
    /// What every value of the key is known to start with (`o-abc1234567/` for an account known
    /// to be in that organization whose OUs cannot be read); empty when nothing is known, not
    /// even whether the key is present. A non-empty prefix means the key is present.
    pub prefix: String,
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
    /// The outcome depends on a condition key whose value is not known
    /// ([`AssumeRoleRequest::unknown_keys`]); the notes say which and why.
    NotProven,
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
    /// statements; for `NotProven`: the statements that may or may not apply; empty for
    /// `ImplicitDeny`.
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
    /// The unknown keys an undecided clause of the statement being evaluated hinged on.
    pending: Vec<&'a UnknownKey>,
}

/// A key's value in the request.
enum KeyValue<'a> {
    Absent,
    Known(Vec<String>),
    Unknown(&'a UnknownKey),
}

/// Three-valued AND: false wins, then unknown.
fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// The literal text of a `*`/`?` pattern before its first wildcard, and whether the pattern is
/// exactly that text followed by one `*`.
fn literal_head(pattern: &str) -> (&str, bool) {
    match pattern.find(['*', '?']) {
        Some(i) => (&pattern[..i], &pattern[i..] == "*"),
        None => (pattern, false),
    }
}

/// Whether `pattern` matches a value known only to start with `prefix` (non-empty): `Some`
/// when the prefix decides it, `None` when the rest of the value would.
fn match_prefixed(base: &str, pattern: &str, prefix: &str) -> Option<bool> {
    let fold = base.ends_with("IgnoreCase");
    let (p, pre) =
        if fold { (pattern.to_lowercase(), prefix.to_lowercase()) } else { (pattern.to_string(), prefix.to_string()) };
    match base.trim_end_matches("IgnoreCase") {
        "StringEquals" | "StringNotEquals" => (!p.starts_with(&pre)).then_some(false),
        "StringLike" | "StringNotLike" => {
            let (head, head_then_star) = literal_head(&p);
            if !head.starts_with(&pre) && !pre.starts_with(head) {
                Some(false)
            } else if head_then_star && pre.starts_with(head) {
                Some(true)
            } else {
                None
            }
        }
        _ => None,
    }
}

impl<'a> Ctx<'a> {
    fn note(&mut self, n: String) {
        if !self.notes.contains(&n) {
            self.notes.push(n);
        }
    }

    fn key_values(&mut self, key: &str) -> KeyValue<'a> {
        let req: &'a AssumeRoleRequest = self.req;
        if let Some(u) = req.unknown_keys.iter().find(|u| u.key.eq_ignore_ascii_case(key)) {
            return KeyValue::Unknown(u);
        }
        let values = match key.to_ascii_lowercase().as_str() {
            "sts:externalid" => req.external_id.clone().map(|v| vec![v]),
            "aws:principalarn" => Some(vec![self.principal_arn.clone()]),
            "aws:principalaccount" => Some(vec![self.principal_account.clone()]),
            "aws:principalorgid" => req.principal_org_id.clone().map(|v| vec![v]),
            "aws:principalorgpaths" => req.principal_org_paths.clone(),
            "aws:resourceorgid" => req.resource_org_id.clone().map(|v| vec![v]),
            "aws:resourceorgpaths" => req.resource_org_paths.clone(),
            _ => {
                self.note(format!("condition key `{key}` is not modelled; treated as absent from the request"));
                None
            }
        };
        match values {
            Some(v) => KeyValue::Known(v),
            None => KeyValue::Absent,
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

    /// Whether every condition of `s` holds: `None` when that hinges on an unknown key (the
    /// keys are left in `pending`).
    fn conditions_hold(&mut self, s: &Statement) -> Option<bool> {
        self.pending.clear();
        let mut all = Some(true);
        for c in &s.conditions {
            all = and3(all, self.clause(&c.operator, &c.key, &c.values));
        }
        if all.is_some() {
            self.pending.clear();
        }
        all
    }

    #[cfg(test)]
    fn clause_holds(&mut self, operator: &str, key: &str, values: &[String]) -> bool {
        self.clause(operator, key, values).expect("a known key")
    }

    fn clause(&mut self, operator: &str, key: &str, values: &[String]) -> Option<bool> {
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
        let value = self.key_values(key);
        let present = match &value {
            KeyValue::Absent => Some(false),
            KeyValue::Known(_) => Some(true),
            KeyValue::Unknown(u) => (!u.prefix.is_empty()).then_some(true),
        };
        if base == "Null" {
            let Some(present) = present else {
                self.undecided(&value);
                return None;
            };
            return Some(values.iter().any(|v| {
                (v.eq_ignore_ascii_case("true") && !present) || (v.eq_ignore_ascii_case("false") && present)
            }));
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
                return Some(false);
            }
        };
        if values.iter().any(|v| v.contains("${")) {
            self.note(format!("policy variables in `{operator}` `{key}` are compared literally"));
        }
        let when_absent = if_exists
            || match set {
                Some(true) => false,
                Some(false) => true,
                None => negated,
            };
        let result = match &value {
            KeyValue::Absent => Some(when_absent),
            KeyValue::Known(ctx) => {
                let pred = |v: &String| values.iter().any(|p| matcher(p, v)) != negated;
                Some(match set {
                    Some(false) => ctx.iter().all(pred),
                    _ => ctx.iter().any(pred),
                })
            }
            KeyValue::Unknown(u) => {
                // Values all starting with the prefix: one unknown value stands for them (a
                // non-empty prefix means at least one value exists).
                let when_present = if u.prefix.is_empty() {
                    None
                } else {
                    let each: Vec<Option<bool>> = values.iter().map(|p| match_prefixed(base, p, &u.prefix)).collect();
                    // Any pattern that matches decides; all that cannot match decide too.
                    let any = if each.contains(&Some(true)) {
                        Some(true)
                    } else if each.iter().all(|m| *m == Some(false)) {
                        Some(false)
                    } else {
                        None
                    };
                    any.map(|m| m != negated)
                };
                match present {
                    Some(_) => when_present,
                    // Present or not: decided only when both cases agree.
                    None => (when_present == Some(when_absent)).then_some(when_absent),
                }
            }
        };
        if result.is_none() {
            self.undecided(&value);
        }
        result
    }

    fn undecided(&mut self, value: &KeyValue<'a>) {
        if let KeyValue::Unknown(u) = value {
            if !self.pending.iter().any(|p| std::ptr::eq(*p, *u)) {
                self.pending.push(u);
            }
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
    let mut ctx = Ctx { principal_arn, principal_account, role_arn, req: request, notes, pending: Vec::new() };

    // Statements whose conditions hinge on an unknown key go to the `maybe` lists, with the
    // keys (and their reasons) they hinge on.
    let mut denies = Vec::new();
    let mut maybe_denies = Vec::new();
    let mut trust_allows: Vec<(StatementRef, PrincipalMatch)> = Vec::new();
    let mut maybe_trust: Vec<(StatementRef, PrincipalMatch)> = Vec::new();
    let mut hinges: Vec<(StatementRef, Vec<&UnknownKey>)> = Vec::new();
    for (i, s) in trust.statements.iter().enumerate() {
        if !Ctx::action_applies(s) || !ctx.resource_applies(s, false) {
            continue;
        }
        let m = ctx.principal_match(s);
        if m == PrincipalMatch::No {
            continue;
        }
        let holds = ctx.conditions_hold(s);
        let r = stmt_ref(TRUST_POLICY_NAME, i, s);
        match (holds, s.effect) {
            (Some(false), _) => {}
            (Some(true), Effect::Deny) => denies.push(r),
            (Some(true), Effect::Allow) => trust_allows.push((r, m)),
            (None, effect) => {
                hinges.push((r.clone(), std::mem::take(&mut ctx.pending)));
                match effect {
                    Effect::Deny => maybe_denies.push(r),
                    Effect::Allow => maybe_trust.push((r, m)),
                }
            }
        }
    }
    let mut identity_allows = Vec::new();
    let mut maybe_identity = Vec::new();
    for np in identity_policies {
        for (i, s) in np.policy.statements.iter().enumerate() {
            if s.principal.is_some() || s.not_principal.is_some() {
                ctx.note(format!("`{}` statement {i} has a principal; ignored in an identity policy", np.name));
                continue;
            }
            if !Ctx::action_applies(s) || !ctx.resource_applies(s, true) {
                continue;
            }
            let holds = ctx.conditions_hold(s);
            let r = stmt_ref(np.name, i, s);
            match (holds, s.effect) {
                (Some(false), _) => {}
                (Some(true), Effect::Deny) => denies.push(r),
                (Some(true), Effect::Allow) => identity_allows.push(r),
                (None, effect) => {
                    hinges.push((r.clone(), std::mem::take(&mut ctx.pending)));
                    match effect {
                        Effect::Deny => maybe_denies.push(r),
                        Effect::Allow => maybe_identity.push(r),
                    }
                }
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
    let caller = request.principal_arn.as_str();
    let chain = Chain { same_account, role_arn, caller };
    // Proven allowed: the statements known to apply allow it, and no Deny may apply.
    let known = chain.allows(&trust_allows, &identity_allows);
    if let (Ok(deciding), true) = (&known, maybe_denies.is_empty()) {
        return Decision { outcome: Outcome::Allowed, deciding: deciding.clone(), notes };
    }
    // Proven denied: not even with every undecided Allow applying.
    let mut all_trust = trust_allows.clone();
    all_trust.extend(maybe_trust.iter().cloned());
    let mut all_identity = identity_allows.clone();
    all_identity.extend(maybe_identity.iter().cloned());
    if let Err(why) = chain.allows(&all_trust, &all_identity) {
        notes.push(why);
        return Decision { outcome: Outcome::ImplicitDeny, deciding: Vec::new(), notes };
    }
    let mut deciding = Vec::new();
    for (r, keys) in &hinges {
        let what = if maybe_denies.contains(r) { "a Deny that may apply" } else { "an Allow that may apply" };
        let keys: Vec<String> = keys.iter().map(|u| format!("`{}` is not known ({})", u.key, u.reason)).collect();
        notes.push(format!("not proven: {} is {what}: {}", describe(r), keys.join("; ")));
        deciding.push(r.clone());
    }
    Decision { outcome: Outcome::NotProven, deciding, notes }
}

/// What decides a chain once the denies are out of the way.
struct Chain<'a> {
    same_account: bool,
    role_arn: &'a str,
    caller: &'a str,
}

impl Chain<'_> {
    /// The deciding statements when these allows let the call through, else why not.
    fn allows(
        &self,
        trust_allows: &[(StatementRef, PrincipalMatch)],
        identity_allows: &[StatementRef],
    ) -> Result<Vec<StatementRef>, String> {
        let Chain { same_account, role_arn, caller } = *self;
        let direct: Vec<StatementRef> =
            trust_allows.iter().filter(|(_, m)| *m == PrincipalMatch::Direct).map(|(r, _)| r.clone()).collect();
        if trust_allows.is_empty() {
            Err(format!("no statement of the trust policy of `{role_arn}` allows `{caller}` to call `{ASSUME_ROLE}`"))
        } else if same_account && !direct.is_empty() {
            Ok(direct)
        } else if identity_allows.is_empty() {
            Err(if same_account {
                format!(
                    "the trust policy trusts the account, not `{caller}` itself, and no identity policy allows `{ASSUME_ROLE}` on `{role_arn}`"
                )
            } else {
                format!("cross-account: no identity policy of `{caller}` allows `{ASSUME_ROLE}` on `{role_arn}`")
            })
        } else {
            let mut d: Vec<StatementRef> = trust_allows.iter().map(|(r, _)| r.clone()).collect();
            d.extend(identity_allows.iter().cloned());
            Ok(d)
        }
    }
}

#[cfg(test)]
mod partitions;
#[cfg(test)]
mod tests;
