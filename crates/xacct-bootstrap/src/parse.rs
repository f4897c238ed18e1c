//! Reading clusterawsadm's `AWSIAMConfiguration` file with the meaning and defaults clusterawsadm
//! gives it, except that what clusterawsadm silently drops (a misspelt or unknown key, a value of
//! the wrong type) is an error with file, line, column, field path and a did-you-mean, and a field
//! clusterawsadm reads but ignores is a warning that says so.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use xacct_spec::yaml::{self, Node, Pos, Value};
use xacct_spec::{Diagnostic, Diagnostics, Severity};

use crate::config::*;
use crate::render::object;

/// A configuration file read and defaulted, with its warnings and where each field was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub file: PathBuf,
    pub spec: Spec,
    pub warnings: Vec<Diagnostic>,
    /// Field path (`spec.nameSuffix`, `spec.nodes.extraStatements[0]`) → position of its key.
    origins: BTreeMap<String, Pos>,
}

impl Config {
    /// Where `field` (a path such as `spec.namePrefix`) was written, if it was.
    pub fn origin(&self, field: &str) -> Option<Pos> {
        self.origins.get(field).copied()
    }

    /// A configuration as if read from a file holding exactly `spec` (used for `profile: capa`
    /// and in tests).
    pub fn from_spec(file: impl Into<PathBuf>, spec: Spec) -> Config {
        Config { file: file.into(), spec, warnings: Vec::new(), origins: BTreeMap::new() }
    }
}

/// Read and default a configuration file from disk.
pub fn load(path: &Path) -> Result<Config, Diagnostics> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostics(vec![Diagnostic::new(
            Severity::Error,
            path,
            Pos::default(),
            "",
            format!("cannot read the AWSIAMConfiguration file: {e}"),
        )])
    })?;
    parse_str(path, &text)
}

/// Read and default a configuration file's text; `path` names it in diagnostics.
pub fn parse_str(path: &Path, text: &str) -> Result<Config, Diagnostics> {
    let mut cx = Cx { file: path.to_path_buf(), diags: Vec::new(), origins: BTreeMap::new() };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = match yaml::parse(text) {
        Ok(Some(node)) => node,
        Ok(None) => {
            cx.error(
                Pos { line: 1, col: 1 },
                "",
                format!("the file is empty; expected `apiVersion: {API_VERSION}`, `kind: {KIND}` and `spec`"),
            );
            return Err(Diagnostics(cx.diags));
        }
        Err(e) => {
            cx.error(e.pos, "", format!("invalid YAML: {}", e.message));
            return Err(Diagnostics(cx.diags));
        }
    };
    let spec = cx.root(&root);
    let mut diags = cx.diags;
    diags.sort_by_key(|d| (d.line, d.column));
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    Ok(Config { file: path.to_path_buf(), spec, warnings: diags, origins: cx.origins })
}

const ROOT: &[&str] = &["apiVersion", "kind", "spec"];
const SPEC: &[&str] = &[
    "namePrefix",
    "nameSuffix",
    "controlPlane",
    "clusterAPIControllers",
    "nodes",
    "bootstrapUser",
    "stackName",
    "stackTags",
    "region",
    "eks",
    "eventBridge",
    "partition",
    "secureSecretBackends",
    "s3Buckets",
    "allowAssumeRole",
];
const ROLE: &[&str] =
    &["disable", "extraPolicyAttachments", "extraStatements", "path", "permissionsBoundary", "trustStatements", "tags"];
const CONTROL_PLANE: &[&str] =
    &["disableClusterAPIControllerPolicyAttachment", "disableCloudProviderPolicy", "enableCSIPolicy"];
const CONTROLLERS: &[&str] = &["allowedEC2InstanceProfiles"];
const NODES: &[&str] = &["disableCloudProviderPolicy", "ec2ContainerRegistryReadOnly"];
const BOOTSTRAP_USER: &[&str] =
    &["enable", "userName", "groupName", "extraPolicyAttachments", "extraGroups", "extraStatements", "tags"];
const EKS: &[&str] = &[
    "disable",
    "iamRoleCreation",
    "enableUserEKSConsolePolicy",
    "defaultControlPlaneRole",
    "managedMachinePool",
    "fargate",
    "kmsAliasPrefix",
];
const EVENT_BRIDGE: &[&str] = &["enable"];
const S3_BUCKETS: &[&str] = &["enable", "namePrefix"];
const STATEMENT: &[&str] = &["Sid", "Principal", "NotPrincipal", "Effect", "Action", "Resource", "Condition"];
const PRINCIPAL_TYPES: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

/// The partitions xacct knows.
pub const PARTITIONS: &[&str] = xacct_spec::keys::PARTITIONS;

struct Cx {
    file: PathBuf,
    diags: Vec<Diagnostic>,
    origins: BTreeMap<String, Pos>,
}

/// A mapping's entries by key (the first of duplicates), with its path.
struct Map<'n> {
    entries: Vec<(&'n str, &'n Node, Pos)>,
    /// Unknown keys (already reported).
    unknown: Vec<&'n str>,
    path: String,
}

impl<'n> Map<'n> {
    /// The value of `key`, unless absent or null.
    fn get(&self, key: &str) -> Option<(&'n Node, Pos)> {
        self.entries.iter().find(|(k, v, _)| *k == key && !v.is_null()).map(|(_, v, p)| (*v, *p))
    }

    fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// An unknown key looks like a misspelling of `key` (its did-you-mean already points there).
    fn misspelt(&self, key: &str) -> bool {
        self.unknown.iter().any(|k| nearest(k, &[key]).is_some())
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn keys(allowed: &[&str]) -> String {
    allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

pub(crate) fn nearest<'a>(key: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&key.to_lowercase(), &k.to_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

/// A plain scalar YAML (as clusterawsadm's decoder reads it) would not make a string.
fn non_string(text: &str) -> bool {
    matches!(text, "true" | "false" | "True" | "False" | "TRUE" | "FALSE")
        || text.parse::<i64>().is_ok()
        || (text.parse::<f64>().is_ok() && text.chars().any(|c| c.is_ascii_digit()))
}

/// Role, policy and tag-key characters IAM accepts in names (`[\w+=,.@-]`).
pub(crate) fn iam_name_chars(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// `arn:<partition>:iam::<account or aws>:policy/<path><name>`: the partition when it is one.
pub(crate) fn policy_arn_partition(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let name = resource.strip_prefix("policy/")?;
    let account_ok = account == "aws" || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
    (account_ok && !partition.is_empty() && !name.is_empty() && !name.ends_with('/')).then_some(partition)
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

    /// A mapping with only `allowed` keys: unknown and duplicate keys reported.
    fn map<'n>(&mut self, node: &'n Node, path: &str, allowed: &[&str]) -> Option<Map<'n>> {
        let Value::Map(entries) = &node.value else {
            self.error(
                node.pos,
                path,
                format!("expected a mapping with keys {}, found {}", keys(allowed), node.describe()),
            );
            return None;
        };
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        let mut out = Vec::new();
        let mut unknown = Vec::new();
        for (k, v) in entries {
            let Some(key) = k.as_str() else {
                self.error(k.pos, path, "expected a plain string key");
                continue;
            };
            let field = join(path, key);
            if let Some(first) = seen.insert(key, k.pos) {
                self.error(k.pos, &field, format!("duplicate key `{key}` (first at line {})", first.line));
                continue;
            }
            if !allowed.contains(&key) {
                let hint = match nearest(key, allowed) {
                    Some(near) => format!("did you mean `{near}`? valid keys here: {}", keys(allowed)),
                    None => format!("valid keys here: {}", keys(allowed)),
                };
                self.error_hint(
                    k.pos,
                    &field,
                    format!("unknown key `{key}` (clusterawsadm would silently ignore it)"),
                    hint,
                );
                unknown.push(key);
                continue;
            }
            self.origins.insert(field, k.pos);
            out.push((key, v, k.pos));
        }
        Some(Map { entries: out, unknown, path: path.to_string() })
    }

    fn string(&mut self, node: &Node, field: &str) -> Option<String> {
        match &node.value {
            Value::Scalar { text, quoted } if !node.is_null() => {
                if !quoted && non_string(text) {
                    self.error_hint(
                        node.pos,
                        field,
                        format!("expected a string, found `{text}`"),
                        format!("quote it: \"{text}\""),
                    );
                    return None;
                }
                Some(text.clone())
            }
            _ => {
                self.error(node.pos, field, format!("expected a string, found {}", node.describe()));
                None
            }
        }
    }

    fn bool(&mut self, node: &Node, field: &str) -> Option<bool> {
        match &node.value {
            Value::Scalar { text, quoted: false } => match text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => {
                    self.error(node.pos, field, format!("expected true or false, found {}", node.describe()));
                    None
                }
            },
            _ => {
                self.error(node.pos, field, format!("expected true or false, found {}", node.describe()));
                None
            }
        }
    }

    fn seq<'n>(&mut self, node: &'n Node, field: &str, what: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            _ => {
                self.error(node.pos, field, format!("expected a list of {what}, found {}", node.describe()));
                None
            }
        }
    }

    fn strings(&mut self, node: &Node, field: &str) -> Vec<String> {
        let Some(items) = self.seq(node, field, "strings") else { return Vec::new() };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let f = format!("{field}[{i}]");
            self.origins.insert(f.clone(), item.pos);
            if let Some(s) = self.string(item, &f) {
                out.push(s);
            }
        }
        out
    }

    fn set_bool(&mut self, m: &Map, key: &str, target: &mut bool) {
        if let Some((v, _)) = m.get(key) {
            if let Some(b) = self.bool(v, &m.field(key)) {
                *target = b;
            }
        }
    }

    /// A non-empty string, else the default stays.
    fn set_string(&mut self, m: &Map, key: &str, target: &mut String) {
        if let Some((v, _)) = m.get(key) {
            if let Some(s) = self.string(v, &m.field(key)) {
                if !s.is_empty() {
                    *target = s;
                }
            }
        }
    }

    fn root(&mut self, root: &Node) -> Spec {
        let mut spec = Spec::default();
        let Some(m) = self.map(root, "", ROOT) else { return spec };
        let top = Pos { line: 1, col: 1 };
        match m.get("apiVersion") {
            None => self.error(top, "apiVersion", format!("missing required key `apiVersion` (`{API_VERSION}`)")),
            Some((v, _)) => {
                if let Some(s) = self.string(v, "apiVersion") {
                    if s != API_VERSION {
                        let hint = if s.starts_with("bootstrap.aws.infrastructure.cluster.x-k8s.io/") {
                            format!("xacct reads `{API_VERSION}`, the version clusterawsadm writes today; convert the file with clusterawsadm or set the apiVersion if the fields are the same")
                        } else {
                            format!("write `apiVersion: {API_VERSION}`")
                        };
                        self.error_hint(v.pos, "apiVersion", format!("unsupported apiVersion `{s}`"), hint);
                    }
                }
            }
        }
        match m.get("kind") {
            None => self.error(top, "kind", format!("missing required key `kind` (`{KIND}`)")),
            Some((v, _)) => {
                if let Some(s) = self.string(v, "kind") {
                    if s != KIND {
                        self.error_hint(
                            v.pos,
                            "kind",
                            format!("expected kind `{KIND}`, found `{s}`"),
                            format!("write `kind: {KIND}`"),
                        );
                    }
                }
            }
        }
        if let Some((v, _)) = m.get("spec") {
            if let Some(s) = self.map(v, "spec", SPEC) {
                self.spec(&s, &mut spec);
            }
        }
        spec
    }

    fn spec(&mut self, m: &Map, spec: &mut Spec) {
        if let Some((v, _)) = m.get("namePrefix") {
            if let Some(s) = self.string(v, &m.field("namePrefix")) {
                spec.name_prefix = s;
            }
        }
        if let Some((v, _)) = m.get("nameSuffix") {
            // An explicit empty suffix is kept (clusterawsadm only defaults an absent one).
            if let Some(s) = self.string(v, &m.field("nameSuffix")) {
                spec.name_suffix = s;
            }
        }
        for key in ["namePrefix", "nameSuffix"] {
            if let Some((v, _)) = m.get(key) {
                if let Some(s) = v.as_str() {
                    if !iam_name_chars(s) {
                        self.error_hint(
                            v.pos,
                            &m.field(key),
                            format!("`{s}` has characters IAM does not allow in role and policy names"),
                            "use letters, digits and `_+=,.@-`",
                        );
                    }
                }
            }
        }
        self.set_string(m, "stackName", &mut spec.stack_name);
        if let Some((v, _)) = m.get("stackName") {
            if let Some(s) = v.as_str() {
                if !iam_name_chars(s) || s.len() > 128 {
                    self.error_hint(
                        v.pos,
                        &m.field("stackName"),
                        format!("`{s}` cannot name the inline policy that carries `extraStatements`"),
                        "IAM policy names are 1-128 characters of letters, digits and `_+=,.@-`",
                    );
                }
            }
        }
        if let Some((v, pos)) = m.get("stackTags") {
            spec.stack_tags = self.tags(v, &m.field("stackTags"));
            if !spec.stack_tags.is_empty() {
                self.warn(
                    pos,
                    &m.field("stackTags"),
                    "`stackTags` tag clusterawsadm's CloudFormation stack, which xacct does not create: they are not applied",
                    "tag the roles with `controlPlane.tags`, `clusterAPIControllers.tags`, `nodes.tags` (and `bootstrapUser.tags`)",
                );
            }
        }
        if let Some((v, _)) = m.get("region") {
            spec.region = self.string(v, &m.field("region"));
        }
        if let Some((v, _)) = m.get("partition") {
            if let Some(s) = self.string(v, &m.field("partition")) {
                if !s.is_empty() {
                    if !PARTITIONS.contains(&s.as_str()) {
                        let hint = match nearest(&s, PARTITIONS) {
                            Some(n) => format!("did you mean `{n}`? known partitions: {}", keys(PARTITIONS)),
                            None => format!("known partitions: {}", keys(PARTITIONS)),
                        };
                        self.error_hint(v.pos, &m.field("partition"), format!("unknown partition `{s}`"), hint);
                    }
                    spec.partition = Some(s);
                }
            }
        }
        self.set_bool(m, "allowAssumeRole", &mut spec.allow_assume_role);
        if let Some((v, _)) = m.get("secureSecretBackends") {
            self.secret_backends(v, &m.field("secureSecretBackends"), spec);
        }
        if let Some((v, _)) = m.get("s3Buckets") {
            if let Some(s) = self.map(v, &m.field("s3Buckets"), S3_BUCKETS) {
                self.set_bool(&s, "enable", &mut spec.s3_buckets.enable);
                self.set_string(&s, "namePrefix", &mut spec.s3_buckets.name_prefix);
            }
        }
        if let Some((v, _)) = m.get("eventBridge") {
            if let Some(s) = self.map(v, &m.field("eventBridge"), EVENT_BRIDGE) {
                self.set_bool(&s, "enable", &mut spec.event_bridge);
            }
        }
        if let Some((v, _)) = m.get("controlPlane") {
            let allowed = [ROLE, CONTROL_PLANE].concat();
            if let Some(s) = self.map(v, &m.field("controlPlane"), &allowed) {
                spec.control_plane.role = self.role(&s, Section::ControlPlane);
                self.set_bool(
                    &s,
                    "disableClusterAPIControllerPolicyAttachment",
                    &mut spec.control_plane.disable_cluster_api_controller_policy_attachment,
                );
                self.set_bool(&s, "disableCloudProviderPolicy", &mut spec.control_plane.disable_cloud_provider_policy);
                self.set_bool(&s, "enableCSIPolicy", &mut spec.control_plane.enable_csi_policy);
                if spec.control_plane.enable_csi_policy && spec.control_plane.disable_cloud_provider_policy {
                    if let Some((_, pos)) = s.get("enableCSIPolicy") {
                        self.warn(
                            pos,
                            &s.field("enableCSIPolicy"),
                            "with `disableCloudProviderPolicy: true` clusterawsadm makes the CSI policy but attaches it to no role",
                            "attach it yourself, or drop `disableCloudProviderPolicy`",
                        );
                    }
                }
            }
        }
        if let Some((v, _)) = m.get("clusterAPIControllers") {
            let allowed = [ROLE, CONTROLLERS].concat();
            if let Some(s) = self.map(v, &m.field("clusterAPIControllers"), &allowed) {
                spec.cluster_api_controllers.role = self.role(&s, Section::Controllers);
                if let Some((v, _)) = s.get("allowedEC2InstanceProfiles") {
                    let field = s.field("allowedEC2InstanceProfiles");
                    let list = self.strings(v, &field);
                    if list.is_empty() && matches!(v.value, Value::Seq(_)) {
                        self.error_hint(
                            v.pos,
                            &field,
                            "an empty list leaves `iam:PassRole` with no resource, which IAM rejects",
                            "omit the key for clusterawsadm's default, `<namePrefix>*<nameSuffix>`",
                        );
                    }
                    spec.cluster_api_controllers.allowed_ec2_instance_profiles = Some(list);
                }
            }
        }
        if let Some((v, _)) = m.get("nodes") {
            let allowed = [ROLE, NODES].concat();
            if let Some(s) = self.map(v, &m.field("nodes"), &allowed) {
                spec.nodes.role = self.role(&s, Section::Nodes);
                self.set_bool(&s, "disableCloudProviderPolicy", &mut spec.nodes.disable_cloud_provider_policy);
                self.set_bool(&s, "ec2ContainerRegistryReadOnly", &mut spec.nodes.ec2_container_registry_read_only);
            }
        }
        if let Some((v, _)) = m.get("bootstrapUser") {
            if let Some(s) = self.map(v, &m.field("bootstrapUser"), BOOTSTRAP_USER) {
                self.bootstrap_user(&s, spec);
            }
        }
        if let Some((v, _)) = m.get("eks") {
            if let Some(s) = self.map(v, &m.field("eks"), EKS) {
                self.eks(&s, spec);
            }
        }
    }

    fn secret_backends(&mut self, v: &Node, field: &str, spec: &mut Spec) {
        let Some(items) = self.seq(v, field, "secret backends") else { return };
        let names: Vec<&str> = SecretBackend::ALL.iter().map(|(n, _)| *n).collect();
        let mut out: Vec<SecretBackend> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let f = format!("{field}[{i}]");
            let Some(s) = self.string(item, &f) else { continue };
            match SecretBackend::from_name(&s) {
                Some(b) if out.contains(&b) => {
                    self.warn(item.pos, &f, format!("`{s}` is listed twice"), "list each backend once");
                }
                Some(b) => out.push(b),
                None => {
                    let hint = match nearest(&s, &names) {
                        Some(n) => format!("did you mean `{n}`? known backends: {}", keys(&names)),
                        None => format!("known backends: {}", keys(&names)),
                    };
                    self.error_hint(item.pos, &f, format!("unknown secret backend `{s}`"), hint);
                }
            }
        }
        if !out.is_empty() {
            spec.secure_secret_backends = out;
        }
    }

    fn bootstrap_user(&mut self, s: &Map, spec: &mut Spec) {
        let u = &mut spec.bootstrap_user;
        self.set_bool(s, "enable", &mut u.enable);
        self.set_string(s, "userName", &mut u.user_name);
        self.set_string(s, "groupName", &mut u.group_name);
        if let Some((v, _)) = s.get("extraGroups") {
            u.extra_groups = self.strings(v, &s.field("extraGroups"));
        }
        if let Some((v, _)) = s.get("extraStatements") {
            u.extra_statements = self.statements(v, &s.field("extraStatements"), Kind::Identity);
        }
        if let Some((v, _)) = s.get("tags") {
            u.tags = self.tags(v, &s.field("tags"));
        }
        if let Some((v, pos)) = s.get("extraPolicyAttachments") {
            u.extra_policy_attachments = self.policy_arns(v, &s.field("extraPolicyAttachments"));
            self.warn(
                pos,
                &s.field("extraPolicyAttachments"),
                "clusterawsadm ignores `bootstrapUser.extraPolicyAttachments`: it attaches `controlPlane.extraPolicyAttachments` to the user instead, and so does xacct",
                "list the user's extra policies under `controlPlane.extraPolicyAttachments` (they go to the control-plane role too)",
            );
        }
    }

    fn eks(&mut self, s: &Map, spec: &mut Spec) {
        let e = &mut spec.eks;
        self.set_bool(s, "disable", &mut e.disable);
        self.set_bool(s, "iamRoleCreation", &mut e.iam_role_creation);
        self.set_bool(s, "enableUserEKSConsolePolicy", &mut e.enable_user_eks_console_policy);
        self.set_string(s, "kmsAliasPrefix", &mut e.kms_alias_prefix);
        for (key, section) in [
            ("defaultControlPlaneRole", Section::EksControlPlane),
            ("managedMachinePool", Section::EksNodegroup),
            ("fargate", Section::EksFargate),
        ] {
            if let Some((v, _)) = s.get(key) {
                if let Some(r) = self.map(v, &s.field(key), ROLE) {
                    let role = self.role(&r, section);
                    match section {
                        Section::EksControlPlane => spec.eks.default_control_plane_role = role,
                        Section::EksNodegroup => spec.eks.managed_machine_pool = role,
                        _ => spec.eks.fargate = role,
                    }
                }
            }
        }
        // clusterawsadm's defaulting: an `eks` block that is not disabled gives nodes read-only ECR.
        if !spec.eks.disable {
            spec.nodes.ec2_container_registry_read_only = true;
        }
    }

    /// The `AWSIAMRoleSpec` fields of a role section, warning about those clusterawsadm ignores there.
    fn role(&mut self, m: &Map, section: Section) -> RoleSpec {
        let mut r = RoleSpec::default();
        self.set_bool(m, "disable", &mut r.disable);
        if let Some((v, _)) = m.get("extraPolicyAttachments") {
            r.extra_policy_attachments = self.policy_arns(v, &m.field("extraPolicyAttachments"));
        }
        if let Some((v, _)) = m.get("extraStatements") {
            r.extra_statements = self.statements(v, &m.field("extraStatements"), Kind::Identity);
        }
        if let Some((v, _)) = m.get("trustStatements") {
            r.trust_statements = self.statements(v, &m.field("trustStatements"), Kind::Trust);
        }
        if let Some((v, _)) = m.get("path") {
            let field = m.field("path");
            if let Some(p) = self.string(v, &field) {
                let ok = p.len() <= 512
                    && p.starts_with('/')
                    && p.ends_with('/')
                    && p.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
                if !ok {
                    self.error_hint(
                        v.pos,
                        &field,
                        format!("`{p}` is not an IAM path"),
                        "a path starts and ends with `/`, is at most 512 characters, printable ASCII without spaces",
                    );
                }
                if !p.is_empty() {
                    r.path = Some(p);
                }
            }
        }
        if let Some((v, _)) = m.get("permissionsBoundary") {
            let field = m.field("permissionsBoundary");
            if let Some(arn) = self.string(v, &field) {
                if policy_arn_partition(&arn).is_none() {
                    self.error_hint(
                        v.pos,
                        &field,
                        format!("`{arn}` is not a managed policy ARN"),
                        "write `arn:<partition>:iam::<account or aws>:policy/<name>`",
                    );
                }
                if !arn.is_empty() {
                    r.permissions_boundary = Some(arn);
                }
            }
        }
        if let Some((v, _)) = m.get("tags") {
            r.tags = self.tags(v, &m.field("tags"));
        }
        let ignored: &[(&str, &str, &str)] = match section {
            Section::ControlPlane => &[(
                "disable",
                "clusterawsadm ignores `controlPlane.disable`: the control-plane role is always made",
                "remove the key",
            )],
            Section::Controllers => &[
                (
                    "disable",
                    "clusterawsadm ignores `clusterAPIControllers.disable`: the controllers role is always made",
                    "remove the key",
                ),
                (
                    "extraPolicyAttachments",
                    "clusterawsadm ignores `clusterAPIControllers.extraPolicyAttachments`: nothing is attached",
                    "attach extra policies to the controllers role outside the bootstrap configuration",
                ),
                (
                    "path",
                    "clusterawsadm ignores `clusterAPIControllers.path`: `controlPlane.path` applies to all three core roles",
                    "set `controlPlane.path`",
                ),
                (
                    "permissionsBoundary",
                    "clusterawsadm ignores `clusterAPIControllers.permissionsBoundary`: `controlPlane.permissionsBoundary` applies to all three core roles",
                    "set `controlPlane.permissionsBoundary`",
                ),
            ],
            Section::Nodes => &[
                ("disable", "clusterawsadm ignores `nodes.disable`: the nodes role is always made", "remove the key"),
                (
                    "path",
                    "clusterawsadm ignores `nodes.path`: `controlPlane.path` applies to all three core roles",
                    "set `controlPlane.path`",
                ),
                (
                    "permissionsBoundary",
                    "clusterawsadm ignores `nodes.permissionsBoundary`: `controlPlane.permissionsBoundary` applies to all three core roles",
                    "set `controlPlane.permissionsBoundary`",
                ),
            ],
            Section::EksControlPlane | Section::EksNodegroup | Section::EksFargate => &[
                ("path", "clusterawsadm ignores `path` on the EKS roles", "remove the key"),
                ("permissionsBoundary", "clusterawsadm ignores `permissionsBoundary` on the EKS roles", "remove the key"),
                ("extraStatements", "clusterawsadm ignores `extraStatements` on the EKS roles", "remove the key"),
                ("trustStatements", "clusterawsadm ignores `trustStatements` on the EKS roles", "remove the key"),
            ],
        };
        for (key, message, hint) in ignored {
            if let Some((_, pos)) = m.get(key) {
                self.warn(pos, &m.field(key), *message, *hint);
            }
        }
        match section {
            Section::Controllers => {
                r.extra_policy_attachments.clear();
                r.path = None;
                r.permissions_boundary = None;
            }
            Section::Nodes => {
                r.path = None;
                r.permissions_boundary = None;
            }
            Section::EksControlPlane | Section::EksNodegroup | Section::EksFargate => {
                r.path = None;
                r.permissions_boundary = None;
                r.extra_statements.clear();
                r.trust_statements.clear();
            }
            Section::ControlPlane => {}
        }
        if matches!(section, Section::ControlPlane | Section::Controllers | Section::Nodes) {
            r.disable = false;
        }
        r
    }

    fn policy_arns(&mut self, v: &Node, field: &str) -> Vec<String> {
        let list = self.strings(v, field);
        if let Value::Seq(items) = &v.value {
            for (arn, item) in list.iter().zip(items) {
                if policy_arn_partition(arn).is_none() {
                    self.error_hint(
                        item.pos,
                        field,
                        format!("`{arn}` is not a managed policy ARN"),
                        "write `arn:<partition>:iam::<account or aws>:policy/<name>`",
                    );
                }
            }
        }
        list
    }

    fn tags(&mut self, v: &Node, field: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Value::Map(entries) = &v.value else {
            self.error(v.pos, field, format!("expected a mapping of tag keys to values, found {}", v.describe()));
            return out;
        };
        for (k, val) in entries {
            let Some(key) = self.string(k, field) else { continue };
            let f = join(field, &key);
            let value = if val.is_null() { Some(String::new()) } else { self.string(val, &f) };
            let Some(value) = value else { continue };
            if key.is_empty() || key.chars().count() > 128 || key.to_lowercase().starts_with("aws:") {
                self.error_hint(
                    k.pos,
                    &f,
                    format!("`{key}` cannot be a tag key"),
                    "a tag key is 1-128 characters and does not start with `aws:`",
                );
            }
            if value.chars().count() > 256 {
                self.error(val.pos, &f, "a tag value is at most 256 characters");
            }
            if out.insert(key.clone(), value).is_some() {
                self.error(k.pos, &f, format!("duplicate tag key `{key}`"));
            }
        }
        out
    }

    /// A list of IAM statements as clusterawsadm's `StatementEntry` reads them.
    fn statements(&mut self, v: &Node, field: &str, kind: Kind) -> Vec<Json> {
        let Some(items) = self.seq(v, field, "IAM statements") else { return Vec::new() };
        if items.is_empty() {
            self.error_hint(
                v.pos,
                field,
                "an empty list gives an inline policy with no statement, which IAM rejects",
                "omit the key, or list at least one statement",
            );
        }
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let f = format!("{field}[{i}]");
            self.origins.insert(f.clone(), item.pos);
            if let Some(s) = self.statement(item, &f, kind) {
                out.push(s);
            }
        }
        out
    }

    fn statement(&mut self, node: &Node, field: &str, kind: Kind) -> Option<Json> {
        let m = self.map(node, field, STATEMENT)?;
        // Block mappings are positioned at their first value: point at the first key instead.
        let at = match &node.value {
            Value::Map(entries) => entries.first().map(|(k, _)| k.pos).unwrap_or(node.pos),
            _ => node.pos,
        };
        let before = self.diags.iter().filter(|d| d.is_error()).count();
        let mut entries: Vec<(&str, Json)> = Vec::new();
        if let Some((v, _)) = m.get("Sid") {
            if let Some(s) = self.string(v, &m.field("Sid")) {
                if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                    self.error(v.pos, &m.field("Sid"), format!("`{s}` is not a valid Sid: letters and digits only"));
                }
                entries.push(("Sid", Json::String(s)));
            }
        }
        match m.get("Effect") {
            None if m.misspelt("Effect") => {}
            None => self.error(at, &m.field("Effect"), "missing `Effect` (`Allow` or `Deny`)"),
            Some((v, _)) => {
                if let Some(s) = self.string(v, &m.field("Effect")) {
                    if s != "Allow" && s != "Deny" {
                        self.error(v.pos, &m.field("Effect"), format!("expected `Allow` or `Deny`, found `{s}`"));
                    }
                    entries.push(("Effect", Json::String(s)));
                }
            }
        }
        for key in ["Principal", "NotPrincipal"] {
            if let Some((v, _)) = m.get(key) {
                if let Some(p) = self.principal(v, &m.field(key)) {
                    entries.push((key, p));
                }
            }
        }
        match m.get("Action") {
            None if m.misspelt("Action") => {}
            None => self.error(at, &m.field("Action"), "missing `Action` (a string or a list of actions)"),
            Some((v, _)) => {
                let list = if matches!(v.value, Value::Seq(_)) {
                    self.strings(v, &m.field("Action"))
                } else {
                    self.string(v, &m.field("Action")).into_iter().collect()
                };
                if list.is_empty() {
                    self.error(v.pos, &m.field("Action"), "`Action` is empty");
                }
                entries.push(("Action", Json::from(list)));
            }
        }
        if let Some((v, _)) = m.get("Resource") {
            if !matches!(v.value, Value::Seq(_)) {
                let hint = v.as_str().map(|s| format!("write `[\"{s}\"]`")).unwrap_or_else(|| "write a list".into());
                self.error_hint(
                    v.pos,
                    &m.field("Resource"),
                    format!(
                        "expected a list of resources, found {} (clusterawsadm fails to read a single string here)",
                        v.describe()
                    ),
                    hint,
                );
            } else {
                entries.push(("Resource", Json::from(self.strings(v, &m.field("Resource")))));
            }
        }
        if let Some((v, _)) = m.get("Condition") {
            if matches!(v.value, Value::Map(_)) {
                entries.push(("Condition", to_json(v)));
            } else {
                self.error(
                    v.pos,
                    &m.field("Condition"),
                    format!("expected a mapping of condition operators, found {}", v.describe()),
                );
            }
        }
        let statement = object(entries);
        if self.diags.iter().filter(|d| d.is_error()).count() > before || !m.unknown.is_empty() {
            return None;
        }
        // What IAM itself would reject in this statement.
        let (policy_kind, what) = match kind {
            Kind::Trust => (xacct_policy::PolicyKind::Trust, "trust"),
            Kind::Identity => (xacct_policy::PolicyKind::Identity, "identity"),
        };
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [statement.clone()]});
        for finding in xacct_policy::validate_value(&doc, policy_kind) {
            if finding.severity == xacct_policy::Severity::Error {
                let sub = finding.path.strip_prefix("Statement[0]").unwrap_or(&finding.path).trim_start_matches('.');
                let f = if sub.is_empty() { field.to_string() } else { format!("{field}.{sub}") };
                self.error(at, &f, format!("IAM would reject this {what} statement: {}", finding.message));
            }
        }
        Some(statement)
    }

    fn principal(&mut self, v: &Node, field: &str) -> Option<Json> {
        let Value::Map(entries) = &v.value else {
            self.error_hint(
                v.pos,
                field,
                format!("expected a mapping of principal types to IDs, found {}", v.describe()),
                "write e.g. `{AWS: [\"arn:aws:iam::111111111111:root\"]}` (clusterawsadm cannot read `\"*\"` here)",
            );
            return None;
        };
        let mut out = serde_json::Map::new();
        for (k, ids) in entries {
            let Some(t) = self.string(k, field) else { continue };
            let f = join(field, &t);
            if !PRINCIPAL_TYPES.contains(&t.as_str()) {
                let hint = match nearest(&t, PRINCIPAL_TYPES) {
                    Some(n) => format!("did you mean `{n}`? principal types: {}", keys(PRINCIPAL_TYPES)),
                    None => format!("principal types: {}", keys(PRINCIPAL_TYPES)),
                };
                self.error_hint(k.pos, &f, format!("unknown principal type `{t}`"), hint);
                continue;
            }
            let list = if matches!(ids.value, Value::Seq(_)) {
                self.strings(ids, &f)
            } else {
                self.string(ids, &f).into_iter().collect()
            };
            out.insert(t, Json::from(list));
        }
        Some(Json::Object(out))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    ControlPlane,
    Controllers,
    Nodes,
    EksControlPlane,
    EksNodegroup,
    EksFargate,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Trust,
    Identity,
}

/// A YAML node as the JSON clusterawsadm's decoder makes of it (plain booleans and numbers stay so).
fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Scalar { text, quoted } => {
            if *quoted {
                Json::String(text.clone())
            } else if node.is_null() {
                Json::Null
            } else if let Ok(b) = text.parse::<bool>() {
                Json::Bool(b)
            } else if let Ok(i) = text.parse::<i64>() {
                Json::from(i)
            } else {
                Json::String(text.clone())
            }
        }
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries.iter().map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), to_json(v))).collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "apiVersion: bootstrap.aws.infrastructure.cluster.x-k8s.io/v1beta1\nkind: AWSIAMConfiguration\n";

    fn read(spec: &str) -> Config {
        parse_str(Path::new("c.yaml"), &format!("{HEAD}{spec}")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn warnings(spec: &str) -> Vec<String> {
        read(spec).warnings.iter().map(|w| format!("{}: {}", w.field, w.message)).collect()
    }

    #[test]
    fn no_spec_and_an_empty_spec_are_the_defaults() {
        assert_eq!(read("").spec, Spec::default());
        assert_eq!(read("spec: {}\n").spec, Spec::default());
        assert_eq!(read("spec:\n").spec, Spec::default());
        let d = Spec::default();
        assert_eq!(d.name_suffix, ".cluster-api-provider-aws.sigs.k8s.io");
        assert_eq!(d.stack_name, "cluster-api-provider-aws-sigs-k8s-io");
        assert_eq!(d.secure_secret_backends, [SecretBackend::SecretsManager]);
        assert_eq!(d.eks.kms_alias_prefix, "cluster-api-provider-aws-*");
        assert_eq!(d.s3_buckets.name_prefix, "cluster-api-provider-aws-");
        assert!(d.eks.managed_machine_pool.disable && d.eks.fargate.disable && !d.eks.disable);
        assert!(!d.nodes.ec2_container_registry_read_only);
        assert_eq!(d.allowed_instance_profiles(), ["*.cluster-api-provider-aws.sigs.k8s.io"]);
    }

    #[test]
    fn an_eks_block_that_is_not_disabled_gives_nodes_read_only_ecr() {
        assert!(read("spec:\n  eks: {}\n").spec.nodes.ec2_container_registry_read_only);
        assert!(read("spec:\n  eks: {kmsAliasPrefix: x-*}\n").spec.nodes.ec2_container_registry_read_only);
        assert!(!read("spec:\n  eks: {disable: true}\n").spec.nodes.ec2_container_registry_read_only);
        assert!(!read("spec:\n  eks:\n").spec.nodes.ec2_container_registry_read_only);
    }

    #[test]
    fn eks_roles_named_in_the_block_are_enabled() {
        let s = read("spec:\n  eks:\n    managedMachinePool: {}\n    fargate: {disable: true}\n").spec;
        assert!(!s.eks.managed_machine_pool.disable);
        assert!(s.eks.fargate.disable);
    }

    #[test]
    fn empty_strings_default_except_the_suffix() {
        let s = read("spec:\n  nameSuffix: \"\"\n  stackName: \"\"\n  eks: {kmsAliasPrefix: \"\"}\n").spec;
        assert_eq!(s.name_suffix, "");
        assert_eq!(s.stack_name, "cluster-api-provider-aws-sigs-k8s-io");
        assert_eq!(s.eks.kms_alias_prefix, "cluster-api-provider-aws-*");
        assert_eq!(s.managed_name("nodes"), "nodes");
    }

    #[test]
    fn statements_are_read_as_clusterawsadm_reads_them() {
        let s = read(
            "spec:\n  controlPlane:\n    trustStatements:\n      - Effect: Allow\n        Principal: {AWS: \"111111111111\"}\n        Action: sts:AssumeRole\n        Condition: {Bool: {aws:SecureTransport: true}}\n",
        )
        .spec;
        assert_eq!(
            s.control_plane.role.trust_statements,
            [
                serde_json::json!({"Effect": "Allow", "Principal": {"AWS": ["111111111111"]}, "Action": ["sts:AssumeRole"],
                "Condition": {"Bool": {"aws:SecureTransport": true}}})
            ]
        );
    }

    #[test]
    fn ignored_fields_are_warned_about_and_ignored() {
        let spec = "spec:\n  controlPlane: {disable: true}\n  clusterAPIControllers:\n    disable: true\n    extraPolicyAttachments: [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]\n    path: /capa/\n  nodes: {permissionsBoundary: \"arn:aws:iam::111111111111:policy/b\"}\n  bootstrapUser: {enable: true, extraPolicyAttachments: [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]}\n  eks: {defaultControlPlaneRole: {path: /x/}}\n  stackTags: {team: platform}\n";
        let w = warnings(spec);
        for w in &w {
            assert!(w.contains("ignores") || w.contains("not applied"), "{w}");
        }
        let fields: Vec<&str> = w.iter().map(|w| w.split(": ").next().unwrap()).collect();
        assert_eq!(
            fields,
            [
                "spec.controlPlane.disable",
                "spec.clusterAPIControllers.disable",
                "spec.clusterAPIControllers.extraPolicyAttachments",
                "spec.clusterAPIControllers.path",
                "spec.nodes.permissionsBoundary",
                "spec.bootstrapUser.extraPolicyAttachments",
                "spec.eks.defaultControlPlaneRole.path",
                "spec.stackTags",
            ]
        );
        let s = read(spec).spec;
        assert!(s.cluster_api_controllers.role.extra_policy_attachments.is_empty());
        assert_eq!(s.cluster_api_controllers.role.path, None);
        assert_eq!(s.nodes.role.permissions_boundary, None);
        assert_eq!(s.eks.default_control_plane_role.path, None);
    }

    #[test]
    fn a_backend_listed_twice_is_a_warning() {
        let c = read("spec:\n  secureSecretBackends: [ssm-parameter-store, ssm-parameter-store]\n");
        assert_eq!(c.spec.secure_secret_backends, [SecretBackend::SsmParameterStore]);
        assert_eq!(c.warnings.len(), 1);
        assert_eq!(c.warnings[0].field, "spec.secureSecretBackends[1]");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let e = parse_str(
            Path::new("c.yaml"),
            &format!("{HEAD}spec:\n  namePrefix: 12\n  nodes: []\n  controlPlane: {{path: capa, permissionsBoundary: x}}\n  metadata: {{}}\n"),
        )
        .unwrap_err();
        let got: Vec<(usize, &str)> = e.0.iter().map(|d| (d.line, d.field.as_str())).collect();
        assert_eq!(
            got,
            [
                (4, "spec.namePrefix"),
                (5, "spec.nodes"),
                (6, "spec.controlPlane.path"),
                (6, "spec.controlPlane.permissionsBoundary"),
                (7, "spec.metadata")
            ]
        );
    }

    #[test]
    fn origins_point_at_keys() {
        let c = read("spec:\n  clusterAPIControllers:\n    allowedEC2InstanceProfiles: [a, b]\n");
        assert_eq!(c.origin("spec.clusterAPIControllers.allowedEC2InstanceProfiles"), Some(Pos { line: 5, col: 5 }));
        assert_eq!(c.origin("spec.clusterAPIControllers.allowedEC2InstanceProfiles[1]").map(|p| p.line), Some(5));
        assert_eq!(c.origin("spec.namePrefix"), None);
    }

    #[test]
    fn policy_arns_are_recognised() {
        assert_eq!(policy_arn_partition("arn:aws-cn:iam::aws:policy/AmazonEKS_CNI_Policy"), Some("aws-cn"));
        assert_eq!(policy_arn_partition("arn:aws:iam::111111111111:policy/team/p"), Some("aws"));
        assert_eq!(policy_arn_partition("arn:aws:iam::aws:role/x"), None);
        assert_eq!(policy_arn_partition("arn:aws:iam::1234:policy/x"), None);
        assert_eq!(policy_arn_partition("AmazonEKS_CNI_Policy"), None);
    }
}
