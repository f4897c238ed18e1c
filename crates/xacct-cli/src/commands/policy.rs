//! `xacct policy …`: the policy engine on its own, for reviewers and CI.
//!
//! `diff` compares two documents under IAM's equivalence rules, `fmt` prints the canonical
//! form, `check` reports findings, `can-assume` asks the static evaluator. All of them read
//! raw JSON or the URL-encoded form IAM returns, from a file or `-` (stdin). Exit codes: 0
//! same / clean / allowed, 2 differs / findings / denied, 1 invalid input.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use xacct_policy::{
    diff_policies, evaluate_assume_role, locate, validate, AssumeRoleRequest, Finding, NamedPolicy, Policy,
    PolicyError, PolicyKind, Severity, StatementRef, UnknownKey, TRUST_POLICY_NAME,
};
use xacct_render::{policy_diff_human, policy_diff_json, policy_diff_messages, Style};

use crate::printer::paint;
use crate::{Outcome, Printer};

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Compare two policy documents the way IAM does.
    ///
    /// Whitespace, statement order, a string vs a one-element list, `Effect` case,
    /// `true` vs "true" in conditions and an account ID vs its root ARN are the same;
    /// a different Sid or Id, a missing Version, action case, duplicates and unique-ID
    /// (AROA…) principals are not. Each file may be raw JSON or URL-encoded as IAM
    /// returns it; `-` reads stdin.
    ///
    /// An account ID is the root ARN of the --partition the documents belong to;
    /// without it, of the partition the documents' ARNs name (so an account ID
    /// matches that account's root ARN in any partition).
    ///
    /// Exit 0 when equivalent, 2 when they differ (a statement-level diff on stdout),
    /// 1 when either is not a valid policy.
    ///
    /// Example:
    ///   aws iam get-role --role-name r --query Role.AssumeRolePolicyDocument \
    ///     --output text | xacct policy diff - desired-trust.json
    #[command(verbatim_doc_comment)]
    Diff {
        /// The first document (`-` for stdin).
        a: PathBuf,
        /// The second document (`-` for stdin).
        b: PathBuf,
        /// The partition both documents belong to (default: inferred from their ARNs).
        #[arg(long, value_name = "PARTITION", value_parser = partitions())]
        partition: Option<String>,
        /// Print the result as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Print a policy in canonical form.
    ///
    /// Two equivalent documents print the same text: statements and values sorted,
    /// single values as lists, account IDs as root ARNs (of --partition, else of the
    /// partition the document's ARNs name, else `aws`), `Effect` spelled `Allow`/`Deny`.
    /// With --check nothing is printed on stdout; the exit code says whether the file
    /// is already byte-identical to its canonical form.
    ///
    /// Exit 0 (formatted, or already canonical with --check), 2 not canonical (--check),
    /// 1 invalid policy.
    ///
    /// Example:
    ///   xacct policy fmt trust.json > trust.canonical.json
    ///   xacct policy fmt --check trust.canonical.json
    #[command(verbatim_doc_comment)]
    Fmt {
        /// The document (`-` for stdin).
        file: PathBuf,
        /// Print nothing; exit 2 when the file is not in canonical form.
        #[arg(long)]
        check: bool,
        /// The partition the document belongs to (default: inferred from its ARNs, else `aws`).
        #[arg(long, value_name = "PARTITION", value_parser = partitions())]
        partition: Option<String>,
    },
    /// Report what IAM would reject and what a reviewer would flag.
    ///
    /// Findings have a severity (ERROR, SECURITY_WARNING, WARNING, SUGGESTION), a code,
    /// a message and a position (file:line:column), sorted by position. Without --kind,
    /// a document with a `Principal` in any statement is checked as a trust policy,
    /// otherwise as an identity policy.
    ///
    /// Exit 0 no findings (or only suggestions), 2 findings, 1 unreadable input.
    ///
    /// Example:
    ///   xacct policy check trust.json
    ///   xacct policy check --kind identity --json assume.json
    #[command(verbatim_doc_comment)]
    Check {
        /// The document (`-` for stdin).
        file: PathBuf,
        /// What the document is (default: guessed from `Principal`).
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
        /// Print the findings as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Exit 2 on findings this severe or worse (the others are still printed).
        #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = crate::args::FailOn::Warning)]
        fail_on: crate::args::FailOn,
    },
    /// Ask whether a principal may call sts:AssumeRole on a role.
    ///
    /// Evaluates the role's trust policy and the caller's identity policies statically:
    /// an explicit Deny wins; cross-account both sides must allow. Prints the outcome
    /// (allowed, implicit deny, explicit deny), the statements that decided it (policy =
    /// file name, index, Sid) and notes on what was approximated. SCPs, permission
    /// boundaries and session policies are not modelled. The partition is the one of
    /// --principal's ARN: an account root ARN of another partition is another principal.
    /// The --*-org-id and --*-org-paths flags give the organization condition keys; an
    /// organization ID without its paths leaves the paths unknown, and an outcome that
    /// hinges on an unknown key is "not proven".
    ///
    /// Exit 0 allowed, 2 denied or not proven, 1 invalid input.
    ///
    /// Example:
    ///   xacct policy can-assume --trust trust.json --identity assume.json \
    ///     --principal arn:aws:iam::111111111111:role/capa-controller \
    ///     --role-arn arn:aws:iam::222222222222:role/capa-workload --external-id dev-7f3a
    #[command(verbatim_doc_comment)]
    CanAssume(CanAssumeArgs),
}

#[derive(Debug, Args)]
pub struct CanAssumeArgs {
    /// The role's trust policy (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub trust: PathBuf,
    /// The caller's identity policies (repeatable; each is reported under its file name).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub identity: Vec<PathBuf>,
    /// The caller: a role or user ARN, or an sts assumed-role session ARN.
    #[arg(long, value_name = "ARN")]
    pub principal: String,
    /// The ARN of the role to assume (identity policies are matched against it).
    #[arg(long, value_name = "ARN")]
    pub role_arn: String,
    /// The `sts:ExternalId` sent with the request.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// `aws:PrincipalOrgID` of the caller's account.
    #[arg(long, value_name = "ORG")]
    pub principal_org_id: Option<String>,
    /// `aws:ResourceOrgID` of the role's account.
    #[arg(long, value_name = "ORG")]
    pub resource_org_id: Option<String>,
    /// `aws:PrincipalOrgPaths` of the caller's account, `o-…/r-…/ou-…/` (repeatable).
    #[arg(long, value_name = "PATH")]
    pub principal_org_paths: Vec<String>,
    /// `aws:ResourceOrgPaths` of the role's account, `o-…/r-…/ou-…/` (repeatable).
    #[arg(long, value_name = "PATH")]
    pub resource_org_paths: Vec<String>,
    /// Print the decision as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// A role's trust (assume-role) policy.
    Trust,
    /// An identity (inline or managed) policy.
    Identity,
}

/// The partitions `--partition` accepts (those xacct reaches AWS in).
fn partitions() -> PossibleValuesParser {
    PossibleValuesParser::new(xacct_aws::Partition::ALL.map(|p| p.as_str()))
}

pub fn run(args: &PolicyArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let mut stdin = Stdin::default();
    match &args.command {
        PolicyCommand::Diff { a, b, partition, json } => {
            diff(&stdin.read(a)?, &stdin.read(b)?, partition.as_deref(), *json, printer)
        }
        PolicyCommand::Fmt { file, check, partition } => fmt(&stdin.read(file)?, *check, partition.as_deref(), printer),
        PolicyCommand::Check { file, kind, json, fail_on } => {
            check(&stdin.read(file)?, *kind, *json, fail_on.severity(), printer)
        }
        PolicyCommand::CanAssume(a) => can_assume(a, &mut stdin, printer),
    }
}

// ---------------------------------------------------------------------------------------------
// Input

/// One document as read: its display name, the bytes as given, and the decoded JSON text.
struct Input {
    name: String,
    raw: String,
    text: String,
    encoded: bool,
}

/// Hands out stdin once.
#[derive(Default)]
struct Stdin {
    used: bool,
}

impl Stdin {
    fn read(&mut self, path: &Path) -> anyhow::Result<Input> {
        let (name, raw) = if path.as_os_str() == "-" {
            if self.used {
                bail!("stdin (`-`) can only be read once\n\nhint: write one of the documents to a file");
            }
            self.used = true;
            let mut raw = String::new();
            std::io::stdin().read_to_string(&mut raw).context("failed to read the policy from stdin")?;
            ("<stdin>".to_string(), raw)
        } else {
            let raw = std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))?;
            (path.display().to_string(), raw)
        };
        let encoded = xacct_policy::is_percent_encoded(&raw);
        let text = xacct_policy::decode_document(&raw).map_err(|e| anyhow!("{name}: {e}"))?;
        Ok(Input { name, raw, text, encoded })
    }
}

/// A note for positions that refer to the decoded text of a URL-encoded document.
fn decoded_note(input: &Input) -> &'static str {
    if input.encoded {
        " (position in the URL-decoded document)"
    } else {
        ""
    }
}

/// Parse a document, or an error naming `file:line:column`.
fn parse(input: &Input) -> anyhow::Result<Policy> {
    Policy::parse(&input.text).map_err(|e| policy_error(input, &e))
}

fn policy_error(input: &Input, err: &PolicyError) -> anyhow::Error {
    let message = match err {
        PolicyError::Json { message, .. } => format!("invalid JSON: {message}"),
        other => other.to_string(),
    };
    match err.position(&input.text) {
        Some((line, col)) => {
            // serde_json reports column 0 at the start of a line.
            let col = col.max(1);
            anyhow!("{}:{line}:{col}: {message}{}", input.name, decoded_note(input))
        }
        None => anyhow!("{}: {message}", input.name),
    }
}

// ---------------------------------------------------------------------------------------------
// diff

fn diff(a: &Input, b: &Input, partition: Option<&str>, as_json: bool, printer: &Printer) -> anyhow::Result<Outcome> {
    let pa = parse(a)?;
    let pb = parse(b)?;
    let d = diff_policies(&pa, &pb, partition);
    if as_json {
        printer.out(&policy_diff_json(&d));
    } else {
        let body = policy_diff_human(&d, &a.name, &b.name, &Style { color: printer.stdout_color() });
        if !body.is_empty() {
            printer.out(&body);
        }
        for message in policy_diff_messages(&d, &a.name, &b.name) {
            printer.status(&message);
        }
    }
    Ok(if d.is_empty() { Outcome::Success } else { Outcome::Differs })
}

// ---------------------------------------------------------------------------------------------
// fmt

fn fmt(input: &Input, check: bool, partition: Option<&str>, printer: &Printer) -> anyhow::Result<Outcome> {
    let policy = parse(input)?;
    let canonical = policy.to_canonical_string_in(partition) + "\n";
    if !check {
        printer.out(&canonical);
        return Ok(Outcome::Success);
    }
    if input.raw == canonical {
        return Ok(Outcome::Success);
    }
    let why = if input.encoded {
        "it is URL-encoded"
    } else if input.raw.trim_end() == canonical.trim_end() {
        "only the final newline differs"
    } else {
        "its layout or order differs"
    };
    printer.status(&format!(
        "{} is not in canonical form ({why})\n\nhint: run `xacct policy fmt {}` to see it",
        input.name, input.name
    ));
    Ok(Outcome::Differs)
}

// ---------------------------------------------------------------------------------------------
// check

/// Trust when any statement has a `Principal` (or `NotPrincipal`), else identity.
fn guess_kind(doc: &Value) -> PolicyKind {
    let has_principal = |s: &Value| s.get("Principal").is_some() || s.get("NotPrincipal").is_some();
    let any = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().any(has_principal),
        Some(s @ Value::Object(_)) => has_principal(s),
        _ => false,
    };
    if any {
        PolicyKind::Trust
    } else {
        PolicyKind::Identity
    }
}

fn kind_name(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Trust => "trust",
        PolicyKind::Identity => "identity",
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Error => "31",
        Severity::SecurityWarning => "35",
        Severity::Warning => "33",
        Severity::Suggestion => "36",
    }
}

fn check(
    input: &Input,
    kind: Option<KindArg>,
    as_json: bool,
    fail_on: Severity,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let value = xacct_policy::parse_json(&input.text).map_err(|e| policy_error(input, &e))?;
    let kind = match kind {
        Some(KindArg::Trust) => PolicyKind::Trust,
        Some(KindArg::Identity) => PolicyKind::Identity,
        None => {
            let k = guess_kind(&value);
            let why =
                if k == PolicyKind::Trust { "a statement has a `Principal`" } else { "no statement has a `Principal`" };
            printer.status(&format!(
                "checking {} as {} policy ({why}); pass --kind to choose",
                input.name,
                if k == PolicyKind::Trust { "a trust" } else { "an identity" }
            ));
            k
        }
    };
    let mut findings: Vec<(Option<(usize, usize)>, Finding)> =
        validate(&input.text, kind).into_iter().map(|f| (locate(&input.text, &f.path), f)).collect();
    findings.sort_by(|(pa, fa), (pb, fb)| {
        (pa.is_none(), pa, fa.severity, fa.code).cmp(&(pb.is_none(), pb, fb.severity, fb.code))
    });
    // Severities order from the most severe: `Error` < `SecurityWarning` < … < `Suggestion`.
    let blocking = findings.iter().filter(|(_, f)| f.severity <= fail_on).count();
    if as_json {
        let list: Vec<Value> = findings
            .iter()
            .map(|(pos, f)| {
                json!({
                    "severity": f.severity.as_str(),
                    "code": f.code,
                    "message": f.message,
                    "path": f.path,
                    "line": pos.map(|p| p.0),
                    "column": pos.map(|p| p.1),
                })
            })
            .collect();
        let doc = json!({
            "format_version": 1,
            "file": input.name,
            "kind": kind_name(kind),
            "url_encoded": input.encoded,
            "findings": list,
        });
        printer.out(&serde_json::to_string_pretty(&doc)?);
    } else if !findings.is_empty() {
        let c = printer.stdout_color();
        let mut out = String::new();
        for (pos, f) in &findings {
            let at = match pos {
                Some((l, col)) => format!("{}:{l}:{col}", input.name),
                None => input.name.clone(),
            };
            let path = if f.path.is_empty() { String::new() } else { format!(" at `{}`", f.path) };
            let sev = paint(c, severity_color(f.severity), f.severity.as_str());
            out.push_str(&format!("{at}: {sev} {}{path}: {}\n", f.code, f.message));
        }
        printer.out(&out);
    }
    if !as_json {
        if findings.is_empty() {
            printer.status(&format!("{}: no findings", input.name));
        } else {
            let count = |s: Severity| findings.iter().filter(|(_, f)| f.severity == s).count();
            let parts: Vec<String> =
                [Severity::Error, Severity::SecurityWarning, Severity::Warning, Severity::Suggestion]
                    .into_iter()
                    .filter(|s| count(*s) > 0)
                    .map(|s| format!("{} {}", count(s), s.as_str()))
                    .collect();
            printer.status(&format!("{}: {}", input.name, parts.join(", ")));
            if input.encoded {
                printer.status("positions are in the URL-decoded document");
            }
        }
    }
    Ok(if blocking > 0 { Outcome::Differs } else { Outcome::Success })
}

// ---------------------------------------------------------------------------------------------
// can-assume

/// A name for each identity policy: its file name, or the path as given when file names
/// repeat or would be mistaken for the trust policy.
fn identity_names(inputs: &[Input]) -> Vec<String> {
    let short: Vec<String> = inputs
        .iter()
        .map(|i| Path::new(&i.name).file_name().map_or_else(|| i.name.clone(), |f| f.to_string_lossy().into_owned()))
        .collect();
    let mut names = Vec::with_capacity(inputs.len());
    for (k, (input, s)) in inputs.iter().zip(&short).enumerate() {
        let clash = s == TRUST_POLICY_NAME || short.iter().filter(|o| *o == s).count() > 1;
        let mut name = if clash { input.name.clone() } else { s.clone() };
        if name == TRUST_POLICY_NAME || names.contains(&name) {
            name = format!("{name}#{k}");
        }
        names.push(name);
    }
    names
}

fn is_role_arn(arn: &str) -> bool {
    xacct_policy::arn_account(arn).is_some() && arn.splitn(6, ':').nth(5).is_some_and(|r| r.starts_with("role/"))
}

/// For a denied request: trust statements whose `sts:ExternalId` condition the request's
/// external ID (or its absence) does not meet, the usual reason CAPA cannot assume a role.
fn external_id_notes(trust: &Policy, trust_name: &str, sent: Option<&str>) -> Vec<String> {
    let mut notes = Vec::new();
    for (i, s) in trust.statements.iter().enumerate() {
        for c in s.conditions.iter().filter(|c| c.key.eq_ignore_ascii_case("sts:ExternalId")) {
            let like = c.operator.contains("Like");
            let met = sent.is_some_and(|v| {
                c.values.iter().any(|p| if like { xacct_policy::glob_match(p, v, false) } else { p == v })
            });
            if met || c.operator.contains("Not") || c.operator == "Null" {
                continue;
            }
            let sid = s.sid.as_ref().map(|v| format!(" (Sid `{v}`)")).unwrap_or_default();
            let wanted = c.values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ");
            let got = sent.map_or_else(
                || "none was sent (pass --external-id)".to_string(),
                |v| format!("the request sent `{v}`"),
            );
            notes.push(format!(
                "`{trust_name}` statement {i}{sid} requires `sts:ExternalId` {} {wanted}; {got}",
                c.operator
            ));
        }
    }
    notes
}

/// Whether `path` is an organization path as the `…OrgPaths` keys see it
/// (`o-…/r-…/ou-…/…/`: an organization, a root, then OUs, with the trailing slash).
fn is_org_path(path: &str) -> bool {
    let Some(body) = path.strip_suffix('/') else { return false };
    let ok = |part: &str, prefix: &str| {
        part.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
    };
    let parts: Vec<&str> = body.split('/').collect();
    parts.len() >= 2 && ok(parts[0], "o-") && ok(parts[1], "r-") && parts[2..].iter().all(|p| ok(p, "ou-"))
}

/// One side's `…OrgID` and `…OrgPaths` values, and the keys left unknown.
type OrgKeys = (Option<String>, Option<Vec<String>>, Vec<UnknownKey>);

/// The `…OrgID` and `…OrgPaths` keys of one side (`principal` or `resource`) from its flags: the
/// paths must be organization paths of one organization, the one `--…-org-id` names if given
/// (else it is theirs); an org ID without paths leaves the paths unknown (they exist, but the
/// request does not say what they are).
fn org_keys(side: &str, id: Option<&str>, paths: &[String]) -> anyhow::Result<OrgKeys> {
    let (id_flag, paths_flag) = (format!("--{side}-org-id"), format!("--{side}-org-paths"));
    if let Some(bad) = paths.iter().find(|p| !is_org_path(p)) {
        bail!(
            "{paths_flag} `{bad}` is not an organization path\n\nhint: write it as the condition key sees it: the organization, the root, then each OU down to the account's parent, with a trailing slash, e.g. o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"
        );
    }
    let orgs: BTreeSet<&str> = paths.iter().filter_map(|p| p.split('/').next()).collect();
    let of_paths = match orgs.len() {
        0 => None,
        1 => orgs.first().copied(),
        _ => bail!(
            "{paths_flag} name {} organizations ({}); an account is in one",
            orgs.len(),
            orgs.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
        ),
    };
    let key = if side == "principal" { "aws:PrincipalOrgPaths" } else { "aws:ResourceOrgPaths" };
    match (id, of_paths) {
        (Some(id), Some(o)) if id != o => {
            bail!("{id_flag} `{id}` and {paths_flag} `{o}/…` name different organizations; an account is in one")
        }
        (_, Some(o)) => Ok((Some(o.to_string()), Some(paths.to_vec()), Vec::new())),
        (Some(id), None) => {
            let unknown = UnknownKey {
                key: key.to_string(),
                reason: format!("{id_flag} was given without {paths_flag}"),
                prefix: format!("{id}/"),
            };
            Ok((Some(id.to_string()), None, vec![unknown]))
        }
        (None, None) => Ok((None, None, Vec::new())),
    }
}

fn can_assume(args: &CanAssumeArgs, stdin: &mut Stdin, printer: &Printer) -> anyhow::Result<Outcome> {
    if xacct_policy::arn_account(&args.principal).is_none() {
        bail!(
            "--principal `{}` is not an ARN with an account\n\nhint: pass the caller's ARN, e.g. arn:aws:iam::111111111111:role/capa-controller",
            args.principal
        );
    }
    if !is_role_arn(&args.role_arn) {
        bail!(
            "--role-arn `{}` is not a role ARN\n\nhint: pass the ARN of the role to assume, e.g. arn:aws:iam::222222222222:role/capa-workload",
            args.role_arn
        );
    }
    let trust_in = stdin.read(&args.trust)?;
    let trust = parse(&trust_in)?;
    let identity_in: Vec<Input> = args.identity.iter().map(|p| stdin.read(p)).collect::<anyhow::Result<_>>()?;
    let identity: Vec<Policy> = identity_in.iter().map(parse).collect::<anyhow::Result<_>>()?;
    let names = identity_names(&identity_in);
    let named: Vec<NamedPolicy<'_>> =
        names.iter().zip(&identity).map(|(name, policy)| NamedPolicy { name, policy }).collect();
    let (principal_org_id, principal_org_paths, mut unknown_keys) =
        org_keys("principal", args.principal_org_id.as_deref(), &args.principal_org_paths)?;
    let (resource_org_id, resource_org_paths, more) =
        org_keys("resource", args.resource_org_id.as_deref(), &args.resource_org_paths)?;
    unknown_keys.extend(more);
    let request = AssumeRoleRequest {
        principal_arn: args.principal.clone(),
        external_id: args.external_id.clone(),
        principal_org_id,
        resource_org_id,
        principal_org_paths,
        resource_org_paths,
        unknown_keys,
        ..Default::default()
    };
    let decision = evaluate_assume_role(&request, &args.role_arn, &trust, &named);

    let trust_name = Path::new(&trust_in.name)
        .file_name()
        .map_or_else(|| trust_in.name.clone(), |f| f.to_string_lossy().into_owned());
    let policy_name =
        |r: &StatementRef| if r.policy == TRUST_POLICY_NAME { trust_name.clone() } else { r.policy.clone() };
    let notes: Vec<String> = decision
        .notes
        .iter()
        .map(|n| n.replace(&format!("`{TRUST_POLICY_NAME}` statement"), &format!("`{trust_name}` statement")))
        .collect();
    let mut notes = notes;
    if !decision.is_allowed() {
        notes.extend(external_id_notes(&trust, &trust_name, args.external_id.as_deref()));
    }
    let (outcome, verdict) = match decision.outcome {
        xacct_policy::Outcome::Allowed => ("allowed", "allowed"),
        xacct_policy::Outcome::ImplicitDeny => ("implicit_deny", "implicit deny"),
        xacct_policy::Outcome::ExplicitDeny => ("explicit_deny", "explicit deny"),
        xacct_policy::Outcome::NotProven => ("not_proven", "not proven"),
    };
    if args.json {
        let deciding: Vec<Value> = decision
            .deciding
            .iter()
            .map(|r| json!({"policy": policy_name(r), "index": r.index, "sid": r.sid}))
            .collect();
        let doc = json!({
            "format_version": 1,
            "principal": args.principal,
            "role_arn": args.role_arn,
            "outcome": outcome,
            "allowed": decision.is_allowed(),
            "deciding": deciding,
            "notes": notes,
        });
        printer.out(&serde_json::to_string_pretty(&doc)?);
    } else {
        let c = printer.stdout_color();
        let mut out = String::new();
        let not_proven = decision.outcome == xacct_policy::Outcome::NotProven;
        let verb = match (decision.is_allowed(), not_proven) {
            (true, _) => "may assume",
            (false, true) => "may or may not assume",
            (false, false) => "may not assume",
        };
        let head = paint(c, if decision.is_allowed() { "32" } else { "31" }, verdict);
        out.push_str(&format!("{head}: {} {verb} {}\n", args.principal, args.role_arn));
        if !decision.deciding.is_empty() {
            out.push_str(if not_proven { "undecided:\n" } else { "decided by:\n" });
            for r in &decision.deciding {
                let sid = r.sid.as_ref().map(|s| format!(" (Sid `{s}`)")).unwrap_or_default();
                out.push_str(&format!("  {} statement {}{sid}\n", policy_name(r), r.index));
            }
        }
        if !notes.is_empty() {
            out.push_str("notes:\n");
            for n in &notes {
                out.push_str(&format!("  - {n}\n"));
            }
        }
        printer.out(&out);
    }
    Ok(if decision.is_allowed() { Outcome::Success } else { Outcome::Differs })
}
