//! Reading and validating the desired-state file: every problem reported in one pass, each with
//! file, line, column, field path, what was expected and, for a misspelt key, the nearest valid one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Diagnostics, Severity};
use crate::keys;
use crate::model::*;
use crate::rules;
use crate::yaml::{self, Node, Pos, Value};

/// A validated file and the warnings it produced.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub spec: Spec,
    pub warnings: Vec<Diagnostic>,
}

/// Read and validate a desired-state file from disk.
pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostics(vec![Diagnostic::new(
            Severity::Error,
            path,
            Pos { line: 0, col: 0 },
            "",
            format!("cannot read the desired-state file: {e}"),
        )
        .with_hint("pass the file with `-f PATH` (default: ./xacct.yaml)")])
    })?;
    parse_str(path, &text)
}

/// Validate a desired-state file's text; `path` names it in diagnostics and anchors relative paths.
pub fn parse_str(path: &Path, text: &str) -> Result<Loaded, Diagnostics> {
    let mut cx = Cx { file: path.to_path_buf(), diags: Vec::new() };
    // Editors on Windows may start the file with a byte-order mark; it is not part of the YAML.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = match yaml::parse(text) {
        Ok(Some(node)) => node,
        Ok(None) => {
            cx.error(
                Pos { line: 1, col: 1 },
                "",
                "the file is empty; expected a mapping with `version`, `management` and `workloads`",
            );
            return Err(Diagnostics(cx.diags));
        }
        Err(e) => {
            cx.error(e.pos, "", format!("invalid YAML: {}", e.message));
            return Err(Diagnostics(cx.diags));
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
    let spec = cx.spec(&root, &dir);
    let mut diags = cx.diags;
    diags.sort_by_key(|d| (d.line, d.column));
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    Ok(Loaded { spec: spec.expect("no errors means a spec"), warnings: diags })
}

struct Cx {
    file: PathBuf,
    diags: Vec<Diagnostic>,
}

/// A mapping being read: its entries and the path that names it.
struct Map<'n> {
    entries: &'n [(Node, Node)],
    path: String,
    table: &'static keys::Table,
}

impl<'n> Map<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
    }

    /// Whether another key of this mapping looks like a misspelling of `key`: it already got a
    /// did-you-mean pointing at `key`, so a missing `key` is not reported twice.
    fn misspelt(&self, key: &str) -> bool {
        self.entries.iter().filter_map(|(k, _)| k.as_str()).any(|k| k != key && nearest(k, &[key]).is_some())
    }

    fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }
}

impl Cx {
    fn error(&mut self, pos: Pos, field: &str, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(Severity::Error, &self.file, pos, field, message));
    }

    fn error_hint(&mut self, pos: Pos, field: &str, message: impl Into<String>, hint: impl Into<String>) {
        self.diags.push(Diagnostic::new(Severity::Error, &self.file, pos, field, message).with_hint(hint));
    }

    fn warn(&mut self, pos: Pos, field: &str, message: impl Into<String>, hint: impl Into<String>) {
        self.diags.push(Diagnostic::new(Severity::Warning, &self.file, pos, field, message).with_hint(hint));
    }

    /// Expect a mapping with only the keys of `table`; report unknown and duplicate keys.
    fn map<'n>(&mut self, node: &'n Node, path: &str, table: &'static keys::Table) -> Option<Map<'n>> {
        self.map_with(node, path, table, |_| None)
    }

    /// [`Cx::map`], with `special` giving the message and hint for an unknown key that deserves
    /// more than a did-you-mean (a key that belongs elsewhere).
    fn map_with<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        table: &'static keys::Table,
        special: fn(&str) -> Option<(String, String)>,
    ) -> Option<Map<'n>> {
        let allowed: &[&str] = &table.names();
        let Value::Map(entries) = &node.value else {
            self.error(
                node.pos,
                path,
                format!("expected a mapping with keys {}, found {}", keys(allowed), node.describe()),
            );
            return None;
        };
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for (k, _) in entries {
            let Some(key) = k.as_str() else {
                self.error(k.pos, path, "expected a plain string key");
                continue;
            };
            let field = if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
            if let Some(first) = seen.insert(key, k.pos) {
                self.error(k.pos, &field, format!("duplicate key `{key}` (first at line {})", first.line));
            }
            if !allowed.contains(&key) {
                if let Some((message, hint)) = special(key) {
                    self.error_hint(k.pos, &field, message, hint);
                    continue;
                }
                match nearest(key, allowed) {
                    Some(near) => self.error_hint(
                        k.pos,
                        &field,
                        format!("unknown key `{key}`"),
                        format!("did you mean `{near}`? valid keys here: {}", keys(allowed)),
                    ),
                    None => self.error_hint(
                        k.pos,
                        &field,
                        format!("unknown key `{key}`"),
                        format!("valid keys here: {}", keys(allowed)),
                    ),
                }
            }
        }
        Some(Map { entries, path: path.to_string(), table })
    }

    fn required<'n>(&mut self, m: &Map<'n>, key: &str, at: Pos, what: &str) -> Option<&'n Node> {
        self.required_hinted(m, key, at, what, None)
    }

    /// [`Cx::required`] with a hint on the "missing" error.
    fn required_hinted<'n>(
        &mut self,
        m: &Map<'n>,
        key: &str,
        at: Pos,
        what: &str,
        hint: Option<&str>,
    ) -> Option<&'n Node> {
        // The schema says which keys are required: it must say so of every key read as required.
        debug_assert!(
            m.table.key(key).is_some_and(|k| k.required),
            "`{key}` of `{}` is read as required but its key table does not mark it required",
            m.path
        );
        let v = m.get(key);
        if v.is_none() && !m.misspelt(key) {
            let message = format!("missing required key `{key}` ({what})");
            match hint {
                Some(h) => self.error_hint(at, &m.field(key), message, h),
                None => self.error(at, &m.field(key), message),
            }
        }
        v
    }

    fn string(&mut self, node: &Node, field: &str, what: &str) -> Option<String> {
        match &node.value {
            Value::Scalar { text, .. } if !node.is_null() => Some(text.clone()),
            _ => {
                self.error(node.pos, field, format!("expected {what}, found {}", node.describe()));
                None
            }
        }
    }

    fn checked(
        &mut self,
        node: &Node,
        field: &str,
        what: &str,
        check: fn(&str) -> Result<(), String>,
    ) -> Option<String> {
        let s = self.string(node, field, what)?;
        match check(&s) {
            Ok(()) => Some(s),
            Err(why) => {
                self.error(node.pos, field, format!("expected {what}, found `{s}`: {why}"));
                None
            }
        }
    }

    fn account(&mut self, node: &Node, field: &str) -> Option<String> {
        self.checked(node, field, "a 12-digit AWS account ID", rules::account_id)
    }

    fn spec(&mut self, root: &Node, dir: &Path) -> Option<Spec> {
        let m = self.map(root, "", &keys::ROOT)?;
        let top = Pos { line: 1, col: 1 };
        let version =
            self.required(&m, "version", top, "the file format version, `1`").and_then(|v| match v.as_str() {
                Some("1") => Some(1),
                _ => {
                    self.error_hint(
                        v.pos,
                        "version",
                        format!("expected `1`, found {}", v.describe()),
                        "this xacct reads version 1 files",
                    );
                    None
                }
            });
        let partition = match m.get("partition") {
            None => Some("aws".to_string()),
            Some(p) => self.string(p, "partition", "a partition").and_then(|s| {
                // One list for the parser and the schema (`keys::PARTITIONS`).
                if keys::PARTITIONS.contains(&s.as_str()) {
                    Some(s)
                } else {
                    let accepted = keys::PARTITIONS.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
                    self.error(p.pos, "partition", format!("expected one of {accepted}, found `{s}`"));
                    None
                }
            }),
        };
        let backend = match m.get("backend") {
            None => Some(BackendSpec::Local { path: dir.join("state/default.json") }),
            Some(b) => self.backend(b, dir),
        };
        let defaults = match m.get("defaults") {
            None => Some(Defaults::default()),
            Some(d) => self.defaults(d),
        };
        // `bootstrap` at the top level: every account inherits it (through `Defaults`).
        let bootstrap = match m.get("bootstrap") {
            None => Some(None),
            Some(b) => self.bootstrap(b, "bootstrap", dir, true),
        };
        let defaults_ok = defaults.is_some() && bootstrap.is_some();
        let mut defaults = defaults.unwrap_or_default();
        defaults.bootstrap = bootstrap.flatten();
        let has_org = m.get("organization").is_some();
        let management = self
            .required(&m, "management", top, "the CAPA management account")
            .and_then(|n| self.management(n, &defaults, dir, has_org));
        // `workloads` or `organization`, or both (the schema's `anyOf`).
        let workloads = match m.get("workloads") {
            Some(n) => self.workloads(n, &defaults, dir, management.as_ref()),
            None if has_org => Some(Vec::new()),
            None => {
                if !m.misspelt("workloads") && !m.misspelt("organization") {
                    self.error_hint(
                        top,
                        "workloads",
                        "missing required key `workloads` (the workload accounts)",
                        "list the accounts under `workloads`, or select them from AWS Organizations with an `organization` block",
                    );
                }
                None
            }
        };
        let organization = match m.get("organization") {
            None => Some(None),
            Some(n) => self.organization(n, &defaults, dir).map(Some),
        };
        Some(Spec {
            file: self.file.clone(),
            dir: dir.to_path_buf(),
            version: version?,
            partition: partition?,
            backend: backend?,
            management: management.filter(|_| defaults_ok)?,
            workloads: workloads.filter(|_| defaults_ok)?,
            default_access: defaults.access.clone().unwrap_or(Access::DefaultChain),
            organization: organization.filter(|_| defaults_ok)?,
        })
    }

    fn backend(&mut self, node: &Node, dir: &Path) -> Option<BackendSpec> {
        let m = self.map(node, "backend", &keys::BACKEND)?;
        match (m.get("local"), m.get("s3")) {
            (Some(_), Some(s3)) => {
                self.error(s3.pos, "backend", "expected one backend, `local` or `s3`, found both");
                None
            }
            (Some(l), None) => {
                let lm = self.map(l, "backend.local", &keys::BACKEND_LOCAL)?;
                let path = match lm.get("path") {
                    None => "state/default.json".to_string(),
                    Some(p) => self.string(p, "backend.local.path", "a file path")?,
                };
                Some(BackendSpec::Local { path: dir.join(path) })
            }
            (None, Some(s3)) => {
                let sm = self.map(s3, "backend.s3", &keys::BACKEND_S3)?;
                let bucket = self
                    .required(&sm, "bucket", s3.pos, "the S3 bucket")
                    .and_then(|b| self.string(b, "backend.s3.bucket", "a bucket name"));
                let key = self
                    .required(&sm, "key", s3.pos, "the state object's key")
                    .and_then(|k| self.string(k, "backend.s3.key", "an object key"));
                let region = match sm.get("region") {
                    None => None,
                    Some(r) => Some(self.string(r, "backend.s3.region", "an AWS region")?),
                };
                Some(BackendSpec::S3 { bucket: bucket?, key: key?, region })
            }
            (None, None) => {
                self.error(node.pos, "backend", "expected `local: {path: …}` or `s3: {bucket: …, key: …}`");
                None
            }
        }
    }

    fn defaults(&mut self, node: &Node) -> Option<Defaults> {
        let m = self.map_with(node, "defaults", &keys::DEFAULTS, defaults_key)?;
        let mut d = Defaults::default();
        let mut ok = true;
        if let Some(r) = m.get("role") {
            d.role = self.role(r, "defaults.role");
            ok &= d.role.is_some();
        }
        if let Some(a) = m.get("access") {
            d.access = self.access(a, "defaults.access");
            ok &= d.access.is_some();
        }
        if let Some(i) = m.get("identity") {
            let im = self.map(i, "defaults.identity", &keys::DEFAULTS_IDENTITY)?;
            if let Some(n) = im.get("allowed_namespaces") {
                d.allowed_namespaces = self.allowed_namespaces(n, "defaults.identity.allowed_namespaces");
                ok &= d.allowed_namespaces.is_some();
            }
            if let Some(n) = im.get("duration_seconds") {
                d.duration_seconds = self.duration(n, "defaults.identity.duration_seconds");
                ok &= d.duration_seconds.is_some();
            }
            match self.opt_checked(
                &im,
                "session_name",
                "defaults.identity",
                "a session name (2–64 characters of letters, digits and `+=,.@_-`)",
                rules::session_name,
            ) {
                Some(s) => d.session_name = s,
                None => ok = false,
            }
        }
        ok.then_some(d)
    }

    fn role(&mut self, node: &Node, field: &str) -> Option<RoleRef> {
        match &node.value {
            Value::Map(_) => {
                let m = self.map(node, field, &keys::ROLE)?;
                let name = self.required(&m, "name", node.pos, "the role name").and_then(|n| {
                    self.checked(
                        n,
                        &format!("{field}.name"),
                        "an IAM role name (1–64 characters of letters, digits and `+=,.@_-`)",
                        rules::role_name,
                    )
                });
                let path = match m.get("path") {
                    None => Some("/".to_string()),
                    Some(p) => self.checked(
                        p,
                        &format!("{field}.path"),
                        "an IAM path (starts and ends with `/`, at most 512 characters)",
                        rules::role_path,
                    ),
                };
                Some(RoleRef { name: name?, path: path? })
            }
            _ => {
                let name = self.checked(
                    node,
                    field,
                    "an IAM role name (1–64 characters of letters, digits and `+=,.@_-`)",
                    rules::role_name,
                )?;
                Some(RoleRef { name, path: "/".to_string() })
            }
        }
    }

    fn access(&mut self, node: &Node, field: &str) -> Option<Access> {
        if node.as_str() == Some("default") {
            return Some(Access::DefaultChain);
        }
        if let Some(other) = node.as_str() {
            self.error_hint(
                node.pos,
                field,
                format!("expected `default`, `{{profile: NAME}}` or `{{assume_role: {{…}}}}`, found `{other}`"),
                "for example `access: { assume_role: { role_name: OrganizationAccountAccessRole } }`",
            );
            return None;
        }
        let m = self.map(node, field, &keys::ACCESS)?;
        match (m.get("profile"), m.get("assume_role")) {
            (Some(_), Some(a)) => {
                self.error(a.pos, field, "expected either `profile` or `assume_role`, found both");
                None
            }
            (Some(p), None) => Some(Access::Profile(self.string(p, &format!("{field}.profile"), "a profile name")?)),
            (None, Some(a)) => {
                let f = format!("{field}.assume_role");
                let am = self.map(a, &f, &keys::ASSUME_ROLE)?;
                let role = match (am.get("role_arn"), am.get("role_name")) {
                    (Some(arn), None) => self
                        .checked(
                            arn,
                            &format!("{f}.role_arn"),
                            "a role ARN (`arn:aws:iam::<account>:role/<name>`)",
                            rules::role_arn,
                        )
                        .map(AssumeTarget::Arn),
                    (None, Some(name)) => self
                        .checked(name, &format!("{f}.role_name"), "an IAM role name", rules::role_name)
                        .map(AssumeTarget::Name),
                    (Some(_), Some(n)) => {
                        self.error(n.pos, &f, "expected either `role_arn` or `role_name`, found both");
                        None
                    }
                    (None, None) => {
                        self.error(
                            a.pos,
                            &f,
                            "missing `role_arn` or `role_name` (the role xacct assumes in the account)",
                        );
                        None
                    }
                };
                let external_id = self.opt_checked(
                    &am,
                    "external_id",
                    &f,
                    "an external ID (2–1,224 characters of letters, digits and `+=,.@:/_-`)",
                    rules::external_id,
                );
                let session_name = self.opt_checked(
                    &am,
                    "session_name",
                    &f,
                    "a session name (2–64 characters of letters, digits and `+=,.@_-`)",
                    rules::session_name,
                );
                Some(Access::AssumeRole { role: role?, external_id: external_id?, session_name: session_name? })
            }
            (None, None) => {
                self.error(
                    node.pos,
                    field,
                    "expected `default`, `{profile: NAME}` or `{assume_role: {role_name: NAME}}`",
                );
                None
            }
        }
    }

    /// An optional checked string: `Some(None)` when absent, `None` when invalid.
    fn opt_checked(
        &mut self,
        m: &Map<'_>,
        key: &str,
        parent: &str,
        what: &str,
        check: fn(&str) -> Result<(), String>,
    ) -> Option<Option<String>> {
        match m.get(key) {
            None => Some(None),
            Some(n) => self.checked(n, &format!("{parent}.{key}"), what, check).map(Some),
        }
    }

    fn duration(&mut self, node: &Node, field: &str) -> Option<u32> {
        let text = self.string(node, field, "a number of seconds between 900 and 43200")?;
        // A quoted `"3600"` is a string: say so rather than read a number out of it.
        let quoted = matches!(node.value, Value::Scalar { quoted: true, .. });
        match text.parse::<u32>() {
            Ok(n) if !quoted && (900..=43200).contains(&n) => {
                if n > 3600 {
                    self.warn(
                        node.pos,
                        field,
                        format!("`{n}` seconds is more than an hour; CAPA assumes this role by role chaining, which AWS caps at 3600 seconds"),
                        "use 3600 or less, or CAPA fails with \"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining\"",
                    );
                }
                Some(n)
            }
            _ => {
                self.error(
                    node.pos,
                    field,
                    format!("expected a number of seconds between 900 and 43200, found {}", node.describe()),
                );
                None
            }
        }
    }

    fn allowed_namespaces(&mut self, node: &Node, field: &str) -> Option<AllowedNamespaces> {
        let expected = "`all`, `none`, a list of namespaces, or `{selector: {matchLabels: {…}}}`";
        match &node.value {
            Value::Scalar { text, .. } if text == "all" => Some(AllowedNamespaces::All),
            Value::Scalar { text, .. } if text == "none" => Some(AllowedNamespaces::None),
            Value::Seq(items) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match self.checked(item, &format!("{field}[{i}]"), "a Kubernetes namespace name", rules::namespace)
                    {
                        Some(ns) => out.push(ns),
                        None => ok = false,
                    }
                }
                if items.is_empty() {
                    self.error_hint(
                        node.pos,
                        field,
                        "an empty list lets no namespace use the identity",
                        "write `none` if that is what you mean",
                    );
                    return None;
                }
                ok.then_some(AllowedNamespaces::List(out))
            }
            Value::Map(_) => {
                let m = self.map(node, field, &keys::SELECTOR)?;
                let sel = self.required(&m, "selector", node.pos, "a label selector")?;
                let sf = format!("{field}.selector");
                let sm = self.map(sel, &sf, &keys::SELECTOR_LABELS)?;
                let ml = self.required(&sm, "matchLabels", sel.pos, "labels a namespace must carry")?;
                let Value::Map(entries) = &ml.value else {
                    self.error(
                        ml.pos,
                        &format!("{sf}.matchLabels"),
                        format!("expected a mapping of labels, found {}", ml.describe()),
                    );
                    return None;
                };
                if entries.is_empty() {
                    self.error_hint(
                        ml.pos,
                        &format!("{sf}.matchLabels"),
                        "an empty selector is ambiguous in CAPA (docs and controller disagree)",
                        "write `all` to allow every namespace",
                    );
                    return None;
                }
                let mut labels = BTreeMap::new();
                for (k, v) in entries {
                    let key = self.string(k, &format!("{sf}.matchLabels"), "a label key")?;
                    let val = self.string(v, &format!("{sf}.matchLabels.{key}"), "a label value")?;
                    labels.insert(key, val);
                }
                Some(AllowedNamespaces::Selector(labels))
            }
            _ => {
                self.error(node.pos, field, format!("expected {expected}, found {}", node.describe()));
                None
            }
        }
    }

    fn management(&mut self, node: &Node, d: &Defaults, dir: &Path, has_org: bool) -> Option<Management> {
        let m = self.map(node, "management", &keys::MANAGEMENT)?;
        let account = self
            .required(&m, "account", node.pos, "the management account ID")
            .and_then(|a| self.account(a, "management.account"));
        let role = match m.get("role") {
            Some(r) => self.role(r, "management.role"),
            None => Some(d.role.clone().unwrap_or_else(default_role)),
        };
        let access = match m.get("access") {
            Some(a) => self.access(a, "management.access"),
            None => Some(Access::DefaultChain),
        };
        let bootstrap = self.account_bootstrap(&m, d, dir);
        let (mut name, mut grant) = (Some(DEFAULT_ASSUME_POLICY_NAME.to_string()), Some(Grant::RoleArns));
        if let Some(ap) = m.get("assume_policy") {
            if let Some(am) = self.map(ap, "management.assume_policy", &keys::ASSUME_POLICY) {
                if let Some(n) = am.get("name") {
                    name = self.checked(
                        n,
                        "management.assume_policy.name",
                        "an inline policy name (1–128 characters of letters, digits and `+=,.@_-`)",
                        rules::policy_name,
                    );
                }
                if let Some(g) = am.get("grant") {
                    grant = self.grant(g, "management.assume_policy.grant", has_org);
                }
            }
        }
        let trust_principal = match m.get("trust_principal").map(|n| (n, n.as_str())) {
            None => Some(TrustPrincipal::RoleArn),
            Some((_, Some("role_arn"))) => Some(TrustPrincipal::RoleArn),
            Some((_, Some("account_root"))) => Some(TrustPrincipal::AccountRootWithArnCondition),
            Some((n, _)) => {
                self.error(
                    n.pos,
                    "management.trust_principal",
                    format!("expected `role_arn` or `account_root`, found {}", n.describe()),
                );
                None
            }
        };
        Some(Management {
            account: account?,
            role: role?,
            access: access?,
            assume_policy_name: name?,
            grant: grant?,
            trust_principal: trust_principal?,
            bootstrap: bootstrap?,
            role_given: m.get("role").is_some() || d.role.is_some(),
            pos: node.pos,
        })
    }

    fn grant(&mut self, node: &Node, field: &str, has_org: bool) -> Option<Grant> {
        if node.as_str() == Some("role_arns") {
            return Some(Grant::RoleArns);
        }
        if node.as_str() == Some("organization") {
            if has_org {
                return Some(Grant::FromOrganization);
            }
            self.error_hint(
                node.pos,
                field,
                "`grant: organization` grants by the organization of the file's `organization` block, and this file has none",
                "write `grant: { organization: o-… }` with the organization's ID, or add an `organization` block",
            );
            return None;
        }
        if let Some(other) = node.as_str() {
            let hint = match nearest(other, &["role_arns", "organization"]) {
                Some(n) => format!("did you mean `{n}`?"),
                None => "grant by organization with `{organization: o-…}` when the ARNs do not fit".to_string(),
            };
            self.error_hint(
                node.pos,
                field,
                format!(
                    "expected `role_arns`, `organization`, `{{organization: o-…}}` or `{{org_paths: [o-…/r-…/]}}`, found `{other}`"
                ),
                &hint,
            );
            return None;
        }
        let m = self.map(node, field, &keys::GRANT)?;
        match (m.get("organization"), m.get("org_paths")) {
            (Some(o), None) => Some(Grant::Organization {
                org_id: self.checked(
                    o,
                    &format!("{field}.organization"),
                    "an organization ID (`o-` and 10–32 lowercase letters or digits)",
                    rules::org_id,
                )?,
            }),
            (None, Some(p)) => {
                let Value::Seq(items) = &p.value else {
                    self.error(
                        p.pos,
                        &format!("{field}.org_paths"),
                        format!("expected a list of organization paths, found {}", p.describe()),
                    );
                    return None;
                };
                let mut paths = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    paths.push(self.checked(
                        it,
                        &format!("{field}.org_paths[{i}]"),
                        "an organization path (`o-…/r-…/ou-…/`)",
                        rules::org_path,
                    )?);
                }
                Some(Grant::OrgPaths { paths })
            }
            _ => {
                self.error(
                    node.pos,
                    field,
                    "expected `role_arns`, `organization`, `{organization: o-…}` or `{org_paths: [o-…/r-…/]}`",
                );
                None
            }
        }
    }

    fn workloads(&mut self, node: &Node, d: &Defaults, dir: &Path, mgmt: Option<&Management>) -> Option<Vec<Workload>> {
        let Value::Seq(items) = &node.value else {
            self.error(node.pos, "workloads", format!("expected a list of workloads, found {}", node.describe()));
            return None;
        };
        let mut out = Vec::new();
        let mut ok = self.unique_raw(items, "name", "workload name") & self.unique_raw(items, "account", "account");
        let mut identities: HashMap<String, usize> = HashMap::new();
        let mut manifests: HashMap<PathBuf, usize> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let field = format!("workloads[{i}]");
            let Some(w) = self.workload(item, &field, d, dir) else {
                ok = false;
                continue;
            };
            // Default identity names are workload names, whose duplicates are already reported.
            let dup_identity = identities.insert(w.identity.name.clone(), i).filter(|first| {
                w.identity.name != w.name || out.iter().all(|o: &Workload| o.name != w.name) && *first != i
            });
            if let Some(first) = dup_identity {
                self.error(
                    w.pos,
                    &format!("{field}.identity.name"),
                    format!("identity name `{}` is already used by workloads[{first}]", w.identity.name),
                );
                ok = false;
            }
            for m in &w.manifests {
                // The file itself, however it is spelt (`..`, `.`, a symlink).
                let file = std::fs::canonicalize(&m.path).unwrap_or_else(|_| m.path.clone());
                if let Some(first) = manifests.insert(file, i) {
                    self.error(
                        w.pos,
                        &format!("{field}.manifests"),
                        format!("manifest `{}` is already listed by workloads[{first}]", m.written),
                    );
                    ok = false;
                }
            }
            if let Some(mg) = mgmt {
                if mg.account == w.account {
                    self.error_hint(
                        w.pos,
                        &format!("{field}.account"),
                        format!("account {} is the management account", w.account),
                        "a workload in the management account needs no cross-account trust; leave it out",
                    );
                    ok = false;
                }
            }
            out.push(w);
        }
        ok.then_some(out)
    }

    /// Report a value of `key` that repeats across workloads, judged on the raw text so that a
    /// workload with other mistakes still takes part.
    fn unique_raw(&mut self, items: &[Node], key: &str, what: &str) -> bool {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let Value::Map(entries) = &item.value else { continue };
            let Some(v) = entries.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v) else { continue };
            let Some(text) = v.as_str() else { continue };
            if let Some(first) = seen.insert(text, i) {
                let field = format!("workloads[{i}].{key}");
                let msg = format!("duplicate {what} `{text}` (also workloads[{first}].{key})");
                if key == "account" {
                    self.error_hint(
                        v.pos,
                        &field,
                        msg,
                        "one workload per account: list each cluster's manifests under the workload of its account",
                    );
                } else {
                    self.error(v.pos, &field, msg);
                }
                ok = false;
            }
        }
        ok
    }

    fn workload(&mut self, node: &Node, field: &str, d: &Defaults, dir: &Path) -> Option<Workload> {
        let m = self.map(node, field, &keys::WORKLOAD)?;
        let name = self.required(&m, "name", node.pos, "a unique workload name").and_then(|n| {
            self.checked(
                n,
                &format!("{field}.name"),
                "a workload name (lowercase letters, digits and `-`, starting with a letter, at most 63 characters)",
                rules::workload_name,
            )
        });
        let name = name.filter(|n| {
            if n == "management" {
                self.error(
                    node.pos,
                    &format!("{field}.name"),
                    "`management` is reserved for the management account's addresses",
                );
                false
            } else {
                true
            }
        });
        let account = self
            .required(&m, "account", node.pos, "the workload account ID")
            .and_then(|a| self.account(a, &format!("{field}.account")));
        let role = match m.get("role") {
            Some(r) => self.role(r, &format!("{field}.role")),
            None => Some(d.role.clone().unwrap_or_else(default_role)),
        };
        let access = match m.get("access") {
            Some(a) => self.access(a, &format!("{field}.access")),
            None => Some(d.access.clone().unwrap_or(Access::DefaultChain)),
        };
        let external_id = self.opt_checked(
            &m,
            "external_id",
            field,
            "an external ID (2–1,224 characters of letters, digits and `+=,.@:/_-`)",
            rules::external_id,
        );
        let identity = self.identity(m.get("identity"), field, name.as_deref(), d, &keys::IDENTITY);
        let manifests = match m.get("manifests") {
            None => Some(Vec::new()),
            Some(list) => self.manifests(list, &format!("{field}.manifests"), dir),
        };
        let bootstrap = self.account_bootstrap(&m, d, dir);
        Some(Workload {
            name: name?,
            account: account?,
            role: role?,
            access: access?,
            external_id: external_id?,
            identity: identity?,
            manifests: manifests?,
            discovered: None,
            bootstrap: bootstrap?,
            role_given: m.get("role").is_some() || d.role.is_some(),
            pos: node.pos,
        })
    }

    /// A workload's identity (`table` [`keys::IDENTITY`]) or a selector's (`table`
    /// [`keys::DEFAULTS_IDENTITY`]: no `name`, each selected account's is its workload's).
    fn identity(
        &mut self,
        node: Option<&Node>,
        parent: &str,
        workload: Option<&str>,
        d: &Defaults,
        table: &'static keys::Table,
    ) -> Option<Identity> {
        let mut id = Identity {
            name: workload.unwrap_or_default().to_string(),
            allowed_namespaces: d.allowed_namespaces.clone(),
            duration_seconds: d.duration_seconds,
            session_name: d.session_name.clone(),
        };
        let Some(node) = node else { return Some(id) };
        let field = format!("{parent}.identity");
        let special: fn(&str) -> Option<(String, String)> =
            if table.key("name").is_some() { |_| None } else { selector_identity_key };
        let m = self.map_with(node, &field, table, special)?;
        let mut ok = true;
        if let Some(n) = m.get("name").filter(|_| table.key("name").is_some()) {
            match self.checked(
                n,
                &format!("{field}.name"),
                "a Kubernetes object name (lowercase letters, digits, `-` and `.`, at most 253 characters)",
                rules::k8s_name,
            ) {
                Some(s) => id.name = s,
                None => ok = false,
            }
        }
        if let Some(n) = m.get("allowed_namespaces") {
            id.allowed_namespaces = self.allowed_namespaces(n, &format!("{field}.allowed_namespaces"));
            ok &= id.allowed_namespaces.is_some();
            if id.allowed_namespaces == Some(AllowedNamespaces::None) {
                self.warn(n.pos, &format!("{field}.allowed_namespaces"), "no namespace will be able to use this identity", "CAPA refuses clusters whose namespace is not allowed (`Namespace is not permitted to use AWSClusterRoleIdentity`)");
            }
        }
        if let Some(n) = m.get("duration_seconds") {
            id.duration_seconds = self.duration(n, &format!("{field}.duration_seconds"));
            ok &= id.duration_seconds.is_some();
        }
        // Absent: the default stays.
        match self.opt_checked(
            &m,
            "session_name",
            &field,
            "a session name (2–64 characters of letters, digits and `+=,.@_-`)",
            rules::session_name,
        ) {
            Some(Some(s)) => id.session_name = Some(s),
            Some(None) => {}
            None => ok = false,
        }
        ok.then_some(id)
    }

    fn organization(&mut self, node: &Node, d: &Defaults, dir: &Path) -> Option<OrgSpec> {
        let m = self.map(node, "organization", &keys::ORGANIZATION)?;
        // The reader's access: `defaults.access` is for workload accounts, not this one.
        let access = match m.get("access") {
            Some(a) => self.access(a, "organization.access"),
            None => Some(Access::DefaultChain),
        };
        let selectors = self
            .required_hinted(
                &m,
                "workloads",
                node.pos,
                "the selectors: which accounts to select",
                Some("for example `workloads: [{ ou: ou-ab12-11111111 }]`"),
            )
            .and_then(|n| self.selectors(n, d, dir));
        Some(OrgSpec { access: access?, selectors: selectors?, pos: node.pos })
    }

    fn selectors(&mut self, node: &Node, d: &Defaults, dir: &Path) -> Option<Vec<OrgSelector>> {
        let field = "organization.workloads";
        let Value::Seq(items) = &node.value else {
            self.error_hint(
                node.pos,
                field,
                format!("expected a list of selectors, found {}", node.describe()),
                "for example `workloads: [{ ou: ou-ab12-11111111 }]`",
            );
            return None;
        };
        if items.is_empty() {
            self.error_hint(
                node.pos,
                field,
                "an empty list selects no account",
                "add a selector (`- ou: ou-…`), or remove the `organization` block",
            );
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.selector(item, &format!("{field}[{i}]"), d, dir) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn selector(&mut self, node: &Node, field: &str, d: &Defaults, dir: &Path) -> Option<OrgSelector> {
        let m = self.map_with(node, field, &keys::ORG_SELECTOR, selector_key)?;
        let ou_what = "an OU ID (`ou-ab12-11111111`) or a root ID (`r-ab12`)";
        let ou = self
            .required_hinted(
                &m,
                "ou",
                node.pos,
                &format!("a selector needs `ou`: {ou_what}, whose accounts it selects"),
                Some("single accounts are listed under the top-level `workloads`, each with its `name` and `account`"),
            )
            .and_then(|n| {
                let f = m.field("ou");
                if let Value::Seq(_) = n.value {
                    self.error_hint(
                        n.pos,
                        &f,
                        format!("expected {ou_what}, found a list"),
                        "one OU per selector: write a selector for each",
                    );
                    return None;
                }
                self.checked(n, &f, ou_what, rules::ou_or_root_id)
            });
        let tags = match m.get("tags") {
            None => Some(BTreeMap::new()),
            Some(t) => self.tags(t, &m.field("tags")),
        };
        let except = match m.get("except") {
            None => Some(BTreeSet::new()),
            Some(e) => self.except(e, &m.field("except")),
        };
        let role = match m.get("role") {
            Some(r) => self.role(r, &m.field("role")),
            None => Some(d.role.clone().unwrap_or_else(default_role)),
        };
        let access = match m.get("access") {
            Some(a) => self.access(a, &m.field("access")),
            None => Some(d.access.clone().unwrap_or(Access::DefaultChain)),
        };
        let external_id = self.opt_checked(
            &m,
            "external_id",
            field,
            "an external ID (2–1,224 characters of letters, digits and `+=,.@:/_-`)",
            rules::external_id,
        );
        let identity = self.identity(m.get("identity"), field, None, d, &keys::DEFAULTS_IDENTITY);
        let identities_dir = match m.get("identities_dir") {
            None => Some(None),
            Some(n) => self.identities_dir(n, &m.field("identities_dir"), dir).map(Some),
        };
        let bootstrap = self.account_bootstrap(&m, d, dir);
        Some(OrgSelector {
            ou: ou?,
            tags: tags?,
            except: except?,
            role: role?,
            access: access?,
            external_id: external_id?,
            identity: identity?,
            identities_dir: identities_dir?,
            bootstrap: bootstrap?,
            role_given: m.get("role").is_some() || d.role.is_some(),
            pos: node.pos,
        })
    }

    /// `tags`: a mapping of strings to strings, as Organizations tags are.
    fn tags(&mut self, node: &Node, field: &str) -> Option<BTreeMap<String, String>> {
        let Value::Map(entries) = &node.value else {
            self.error_hint(
                node.pos,
                field,
                format!("expected a mapping of tag keys to values, found {}", node.describe()),
                "for example `tags: { capa: enabled }`",
            );
            return None;
        };
        let mut out = BTreeMap::new();
        let mut seen: HashMap<String, Pos> = HashMap::new();
        let mut ok = true;
        for (k, v) in entries {
            let Some(key) = self.tag_text(k, field, "a tag key", rules::tag_key) else {
                ok = false;
                continue;
            };
            let f = format!("{field}.{key}");
            if let Some(first) = seen.insert(key.clone(), k.pos) {
                self.error(k.pos, &f, format!("duplicate tag key `{key}` (first at line {})", first.line));
                ok = false;
            }
            match self.tag_text(v, &f, "a tag value", rules::tag_value) {
                Some(value) => {
                    out.insert(key, value);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A tag key or value: a string. A plain scalar YAML reads as something else (`true`, `3`,
    /// `1.5`, null) is refused rather than compared as text, with the quoted form to write.
    fn tag_text(
        &mut self,
        node: &Node,
        field: &str,
        what: &str,
        check: fn(&str) -> Result<(), String>,
    ) -> Option<String> {
        let text = match &node.value {
            Value::Scalar { text, quoted: true } => text,
            Value::Scalar { text, quoted: false } => {
                if node.is_null() {
                    self.error_hint(
                        node.pos,
                        field,
                        format!("expected {what} (a string), found null"),
                        "write `\"\"` for an empty value",
                    );
                    return None;
                }
                if let Some(kind) = yaml_typed(text) {
                    self.error_hint(
                        node.pos,
                        field,
                        format!("expected {what} (a string), found `{text}`, which YAML reads as {kind}"),
                        format!("quote it: `\"{text}\"`"),
                    );
                    return None;
                }
                text
            }
            _ => {
                self.error(node.pos, field, format!("expected {what} (a string), found {}", node.describe()));
                return None;
            }
        };
        match check(text) {
            Ok(()) => Some(text.clone()),
            Err(why) => {
                self.error(node.pos, field, format!("expected {what}, found `{text}`: {why}"));
                None
            }
        }
    }

    fn except(&mut self, node: &Node, field: &str) -> Option<BTreeSet<String>> {
        let Value::Seq(items) = &node.value else {
            self.error_hint(
                node.pos,
                field,
                format!("expected a list of 12-digit AWS account IDs, found {}", node.describe()),
                "for example `except: [\"444444444444\"]`",
            );
            return None;
        };
        let mut out = BTreeSet::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let f = format!("{field}[{i}]");
            let Some(a) = self.account(item, &f) else {
                ok = false;
                continue;
            };
            if let Some(first) = seen.insert(a.clone(), i) {
                self.error(item.pos, &f, format!("duplicate account `{a}` (also {field}[{first}])"));
                ok = false;
            }
            out.insert(a);
        }
        ok.then_some(out)
    }

    /// An account's `bootstrap` (management, a workload, a selector): its own block replaces the
    /// top-level one entirely, `false` is none, and without the key it inherits the top-level one.
    /// `None` when invalid.
    fn account_bootstrap(&mut self, m: &Map<'_>, d: &Defaults, dir: &Path) -> Option<Option<BootstrapSpec>> {
        match m.get("bootstrap") {
            None => Some(d.bootstrap.clone()),
            Some(n) => self.bootstrap(n, &m.field("bootstrap"), dir, false),
        }
    }

    /// A `bootstrap` value: `false` (`Some(None)`) or a block with exactly one of `config` and
    /// `profile`, and `adopt`. `top`: the top-level key, which nothing is inherited into.
    fn bootstrap(&mut self, node: &Node, field: &str, dir: &Path, top: bool) -> Option<Option<BootstrapSpec>> {
        let expected = "`false` or a mapping with `config` or `profile`";
        match &node.value {
            Value::Map(_) => {}
            Value::Scalar { text, quoted: false } if yaml_bool(text) == Some(false) => return Some(None),
            Value::Scalar { text, quoted: false } if yaml_bool(text) == Some(true) => {
                let hint = if top {
                    "write a block: `bootstrap: { profile: capa }` (clusterawsadm's default set), `{ profile: dkp }` or `{ config: FILE }`"
                } else {
                    "write a block (`bootstrap: { profile: capa }`, `{ profile: dkp }` or `{ config: FILE }`), or leave `bootstrap` out to inherit the top-level one"
                };
                self.error_hint(node.pos, field, "`bootstrap: true` does not say which IAM to make", hint);
                return None;
            }
            _ => {
                self.error_hint(
                    node.pos,
                    field,
                    format!("expected {expected}, found {}", node.describe()),
                    "for example `bootstrap: { profile: capa }`",
                );
                return None;
            }
        }
        let m = self.map(node, field, &keys::BOOTSTRAP)?;
        let source = match (m.get("config"), m.get("profile")) {
            (Some(c), Some(p)) => {
                let later = if (p.pos.line, p.pos.col) > (c.pos.line, c.pos.col) { p } else { c };
                self.error_hint(
                    later.pos,
                    field,
                    "expected either `config` or `profile`, found both",
                    "`config` names an AWSIAMConfiguration file, which says itself which IAM to make; keep one",
                );
                None
            }
            (Some(c), None) => self.bootstrap_config(c, &m.field("config"), dir).map(BootstrapSource::Config),
            (None, Some(p)) => self.bootstrap_profile(p, &m.field("profile")).map(BootstrapSource::Profile),
            (None, None) => {
                if !m.misspelt("config") && !m.misspelt("profile") {
                    self.error_hint(
                        node.pos,
                        field,
                        "missing `config` or `profile` (which IAM to make)",
                        "`config: FILE` names clusterawsadm's AWSIAMConfiguration file; `profile: capa` is clusterawsadm's default set, `profile: dkp` DKP's prerequisites",
                    );
                }
                None
            }
        };
        let adopt = match m.get("adopt") {
            None => Some(false),
            Some(a) => match &a.value {
                Value::Scalar { text, quoted: false } if yaml_bool(text).is_some() => yaml_bool(text),
                _ => {
                    self.error(a.pos, &m.field("adopt"), format!("expected `true` or `false`, found {}", a.describe()));
                    None
                }
            },
        };
        Some(Some(BootstrapSpec { source: source?, adopt: adopt?, pos: node.pos }))
    }

    /// `bootstrap.config`: clusterawsadm's `AWSIAMConfiguration` file, relative to this file. It
    /// must exist here; `xacct-bootstrap` reads it.
    fn bootstrap_config(&mut self, node: &Node, field: &str, dir: &Path) -> Option<ManifestRef> {
        let written = self.string(node, field, "an AWSIAMConfiguration file path relative to this file")?;
        let path = dir.join(&written);
        if path.is_dir() {
            self.error_hint(
                node.pos,
                field,
                format!("bootstrap config `{written}` is a directory ({})", path.display()),
                "name clusterawsadm's AWSIAMConfiguration file",
            );
            return None;
        }
        if !path.is_file() {
            self.error_hint(
                node.pos,
                field,
                format!("bootstrap config `{written}` does not exist (looked for {})", path.display()),
                "paths are relative to the desired-state file",
            );
            return None;
        }
        Some(ManifestRef { written, path })
    }

    fn bootstrap_profile(&mut self, node: &Node, field: &str) -> Option<BootstrapProfile> {
        let profiles = ["capa", "dkp"];
        match node.as_str().filter(|_| !node.is_null()) {
            Some("capa") => Some(BootstrapProfile::Capa),
            Some("dkp") => Some(BootstrapProfile::Dkp),
            Some(other) => {
                let hint = match nearest(&other.to_lowercase(), &profiles) {
                    Some(n) => format!("did you mean `{n}`?"),
                    None => "`capa` is clusterawsadm's default set, `dkp` DKP's prerequisites; for another set, name an AWSIAMConfiguration file with `config`".to_string(),
                };
                self.error_hint(node.pos, field, format!("expected `capa` or `dkp`, found `{other}`"), hint);
                None
            }
            None => {
                self.error(node.pos, field, format!("expected `capa` or `dkp`, found {}", node.describe()));
                None
            }
        }
    }

    /// `identities_dir`: relative to the file like `manifests`. It need not exist yet (an empty
    /// directory does not survive a Git checkout); it must not be something other than a directory.
    fn identities_dir(&mut self, node: &Node, field: &str, dir: &Path) -> Option<ManifestRef> {
        let written = self.string(node, field, "a directory path relative to this file")?;
        let path = dir.join(&written);
        if path.exists() && !path.is_dir() {
            self.error_hint(
                node.pos,
                field,
                format!("`{written}` is not a directory ({})", path.display()),
                "xacct writes one AWSClusterRoleIdentity file per selected account into this directory",
            );
            return None;
        }
        Some(ManifestRef { written, path })
    }

    fn manifests(&mut self, node: &Node, field: &str, dir: &Path) -> Option<Vec<ManifestRef>> {
        let Value::Seq(items) = &node.value else {
            self.error(node.pos, field, format!("expected a list of manifest paths, found {}", node.describe()));
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let f = format!("{field}[{i}]");
            let Some(written) = self.string(item, &f, "a manifest path relative to this file") else {
                ok = false;
                continue;
            };
            let path = dir.join(&written);
            if path.is_dir() {
                self.error_hint(
                    item.pos,
                    &f,
                    format!("manifest `{written}` is a directory ({})", path.display()),
                    "list each manifest file",
                );
                ok = false;
                continue;
            }
            if !path.is_file() {
                self.error_hint(
                    item.pos,
                    &f,
                    format!("manifest `{written}` does not exist (looked for {})", path.display()),
                    "paths are relative to the desired-state file",
                );
                ok = false;
                continue;
            }
            out.push(ManifestRef { written, path });
        }
        ok.then_some(out)
    }
}

#[derive(Clone, Debug, Default)]
struct Defaults {
    role: Option<RoleRef>,
    access: Option<Access>,
    allowed_namespaces: Option<AllowedNamespaces>,
    duration_seconds: Option<u32>,
    session_name: Option<String>,
    /// The top-level `bootstrap`, which every account inherits unless it has its own.
    bootstrap: Option<BootstrapSpec>,
}

fn default_role() -> RoleRef {
    RoleRef { name: DEFAULT_ROLE.to_string(), path: "/".to_string() }
}

fn keys(allowed: &[&str]) -> String {
    allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

fn nearest<'a>(key: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|k| (strsim::damerau_levenshtein(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

/// `bootstrap` in `defaults`: it is a top-level key.
fn defaults_key(key: &str) -> Option<(String, String)> {
    (key == "bootstrap").then(|| {
        (
            "`bootstrap` is not a default: it is a top-level key, which every account inherits".to_string(),
            "move it to the top level of the file; an account overrides it with its own `bootstrap`".to_string(),
        )
    })
}

/// A plain scalar YAML's core schema reads as a boolean.
fn yaml_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// The special unknown keys of a selector: a listed workload's keys, which a selector has not.
fn selector_key(key: &str) -> Option<(String, String)> {
    matches!(key, "name" | "account" | "accounts" | "manifests").then(|| {
        (
            format!("unknown key `{key}`: a selector selects the accounts below its `ou`"),
            "list a single account under the top-level `workloads`, with its `name`, `account` and `manifests`"
                .to_string(),
        )
    })
}

/// `name` in a selector's identity.
fn selector_identity_key(key: &str) -> Option<(String, String)> {
    (key == "name").then(|| {
        (
            "`name` is not allowed in a selector's identity: each selected account's identity is named after its workload".to_string(),
            "a discovered account's workload name is derived from its account name (docs/organizations.md); to name an identity, list the account under `workloads`".to_string(),
        )
    })
}

/// What YAML's core schema reads a plain scalar as, when not a string: `true`, `3`, `0x1f`,
/// `1.5e3`, `.inf` (the text is kept, but a tag compared as text would silently differ from what
/// every other YAML tool sees).
fn yaml_typed(text: &str) -> Option<&'static str> {
    if matches!(text, "true" | "True" | "TRUE" | "false" | "False" | "FALSE") {
        return Some("a boolean");
    }
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let int = digits(unsigned, 10)
        || text.strip_prefix("0o").is_some_and(|s| digits(s, 8))
        || text.strip_prefix("0x").is_some_and(|s| digits(s, 16));
    let special = matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN");
    // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    let float = {
        let (mantissa, exp) = match unsigned.find(['e', 'E']) {
            Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
            None => (unsigned, None),
        };
        let mantissa_ok = match mantissa.split_once('.') {
            Some(("", frac)) => digits(frac, 10),
            Some((whole, frac)) => digits(whole, 10) && (frac.is_empty() || digits(frac, 10)),
            None => digits(mantissa, 10),
        };
        let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
        mantissa_ok && exp_ok
    };
    (int || special || float).then_some("a number")
}
