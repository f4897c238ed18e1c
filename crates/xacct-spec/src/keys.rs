//! The key tables of the desired-state file: which keys each mapping may hold, which are
//! required, and what each value looks like. The parser validates with these tables (every
//! `map` call names one, and every required key it reads must be marked required here), and
//! [`schema`] builds the JSON Schema from the same tables, so the two cannot drift.

use serde_json::{json, Map, Value};

/// One key of a mapping.
#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub required: bool,
    /// One line for editors (the schema's `description`).
    pub doc: &'static str,
    /// The JSON Schema of the value.
    pub value: fn() -> Value,
}

/// A mapping: its keys, and schema constraints over the whole mapping ("exactly one of", "at
/// least one of").
#[derive(Debug)]
pub struct Table {
    pub keys: &'static [Key],
    pub exactly_one_of: &'static [&'static str],
    /// Keys of which the mapping must hold one or more (each itself not required): the top
    /// level's `workloads` and `organization`.
    pub at_least_one_of: &'static [&'static str],
}

impl Table {
    pub fn names(&self) -> Vec<&'static str> {
        self.keys.iter().map(|k| k.name).collect()
    }

    pub fn key(&self, name: &str) -> Option<&'static Key> {
        self.keys.iter().find(|k| k.name == name)
    }
}

const fn key(name: &'static str, required: bool, doc: &'static str, value: fn() -> Value) -> Key {
    Key { name, required, doc, value }
}

/// The partitions the file's `partition` accepts. The parser reports a wrong one by listing these.
/// They are the partitions of the endpoint data compiled into the AWS SDK for Rust (aws-sdk-iam
/// 1.133, `src/endpoint_lib.rs`), as `xacct_aws::Partition` knows them.
pub const PARTITIONS: &[&str] =
    &["aws", "aws-cn", "aws-us-gov", "aws-eusc", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f"];

fn string() -> Value {
    json!({ "type": "string" })
}
fn account() -> Value {
    // YAML reads an unquoted 012345678901 as a number (the parser keeps its text, zero and all).
    json!({ "type": ["string", "integer"], "pattern": "^[0-9]{12}$", "description": "a 12-digit AWS account ID; quote it" })
}
fn role() -> Value {
    json!({ "oneOf": [ { "type": "string", "description": "the role name" }, object(&ROLE) ] })
}
fn access() -> Value {
    object(&ACCESS)
}
fn identity_defaults() -> Value {
    object(&DEFAULTS_IDENTITY)
}
fn identity() -> Value {
    object(&IDENTITY)
}
fn allowed_namespaces() -> Value {
    json!({ "oneOf": [
        { "enum": ["all", "none"] },
        { "type": "array", "items": { "type": "string" }, "minItems": 1 },
        object(&SELECTOR),
    ] })
}
fn duration() -> Value {
    json!({ "type": "integer", "minimum": 900, "maximum": 43200 })
}
fn bootstrap() -> Value {
    json!({ "oneOf": [
        { "const": false, "description": "not bootstrapped: the roles are preconditions" },
        object(&BOOTSTRAP),
    ] })
}
fn labels() -> Value {
    json!({ "type": "object", "additionalProperties": { "type": "string" } })
}

pub static ROOT: Table = Table {
    keys: &[
        key("version", true, "the file format version", || json!({ "const": 1 })),
        key("partition", false, "the AWS partition of every account (default `aws`)", || json!({ "enum": PARTITIONS })),
        key("backend", false, "where state lives (default: local file state/default.json)", || object(&BACKEND)),
        key("defaults", false, "settings every workload inherits", || object(&DEFAULTS)),
        key(
            "bootstrap",
            false,
            "CAPA's prerequisite IAM, which xacct makes in every account that does not say otherwise",
            bootstrap,
        ),
        key("management", true, "the CAPA management (source) account", || object(&MANAGEMENT)),
        key(
            "workloads",
            false,
            "the workload (target) accounts, listed (required unless `organization` selects them)",
            || json!({ "type": "array", "items": object(&WORKLOAD) }),
        ),
        key("organization", false, "workload accounts selected from AWS Organizations, by OU and tags", || {
            object(&ORGANIZATION)
        }),
    ],
    exactly_one_of: &[],
    at_least_one_of: &["workloads", "organization"],
};

pub static BOOTSTRAP: Table = Table {
    keys: &[
        key("config", false, "clusterawsadm's AWSIAMConfiguration file, relative to this file", string),
        key(
            "profile",
            false,
            "capa (clusterawsadm's default set) or dkp (DKP's prerequisites)",
            || json!({ "enum": ["capa", "dkp"] }),
        ),
        key(
            "adopt",
            false,
            "take over same-named resources that already exist, such as a CloudFormation stack's (default false)",
            || json!({ "type": "boolean" }),
        ),
    ],
    exactly_one_of: &["config", "profile"],
    at_least_one_of: &[],
};

pub static BACKEND: Table = Table {
    keys: &[
        key("local", false, "a local state file", || object(&BACKEND_LOCAL)),
        key("s3", false, "an S3 object, locked with a conditional write", || object(&BACKEND_S3)),
    ],
    exactly_one_of: &["local", "s3"],
    at_least_one_of: &[],
};

pub static BACKEND_LOCAL: Table = Table {
    keys: &[key("path", false, "relative to the desired-state file", string)],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

pub static BACKEND_S3: Table = Table {
    keys: &[
        key("bucket", true, "the S3 bucket", string),
        key("key", true, "the state object's key", string),
        key("region", false, "the bucket's region", string),
    ],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

pub static DEFAULTS: Table = Table {
    keys: &[
        key("role", false, "the workload role (default control-plane.cluster-api-provider-aws.sigs.k8s.io)", role),
        key("access", false, "how xacct reaches each workload account", access),
        key("identity", false, "defaults of every AWSClusterRoleIdentity", identity_defaults),
    ],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

pub static DEFAULTS_IDENTITY: Table = Table {
    keys: &[
        key("allowed_namespaces", false, "all | none | [ns, …] | {selector: {matchLabels: {…}}}", allowed_namespaces),
        key("duration_seconds", false, "session length, 900–43200 (CAPA's role chaining caps it at 3600)", duration),
        key("session_name", false, "2–64 characters of letters, digits and +=,.@_-", string),
    ],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

pub static ROLE: Table = Table {
    keys: &[key("name", true, "the role name", string), key("path", false, "the role's IAM path (default /)", string)],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

pub static ACCESS: Table = Table {
    keys: &[
        key("profile", false, "a named AWS profile", string),
        key("assume_role", false, "assume this role from the base credentials", || object(&ASSUME_ROLE)),
    ],
    exactly_one_of: &["profile", "assume_role"],
    at_least_one_of: &[],
};

pub static ASSUME_ROLE: Table = Table {
    keys: &[
        key("role_arn", false, "the role's ARN", string),
        key("role_name", false, "the role's name, in the account being reached", string),
        key("external_id", false, "the external ID that role requires", string),
        key("session_name", false, "the session name (default xacct)", string),
    ],
    exactly_one_of: &["role_arn", "role_name"],
    at_least_one_of: &[],
};

pub static SELECTOR: Table = Table {
    keys: &[key("selector", true, "a label selector", || object(&SELECTOR_LABELS))],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

pub static SELECTOR_LABELS: Table = Table {
    keys: &[key("matchLabels", true, "labels a namespace must carry", labels)],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

pub static MANAGEMENT: Table = Table {
    keys: &[
        key("account", true, "the management account ID", account),
        key(
            "role",
            false,
            "the CAPA controller's role (default control-plane.cluster-api-provider-aws.sigs.k8s.io)",
            role,
        ),
        key("access", false, "how xacct reaches this account (default: the default credential chain)", access),
        key("assume_policy", false, "xacct's sts:AssumeRole inline policy on the management role", || {
            object(&ASSUME_POLICY)
        }),
        key(
            "trust_principal",
            false,
            "role_arn (default) or account_root",
            || json!({ "enum": ["role_arn", "account_root"] }),
        ),
        key(
            "bootstrap",
            false,
            "CAPA's prerequisite IAM in this account (default: the top-level bootstrap; false: none)",
            bootstrap,
        ),
    ],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

pub static ASSUME_POLICY: Table = Table {
    keys: &[
        key("name", false, "the inline policy's name (default xacct-assume-workload-roles)", string),
        key(
            "grant",
            false,
            "role_arns (default) | organization (the `organization` block's) | {organization: o-…} | {org_paths: [o-…/r-…/…]}",
            || json!({ "oneOf": [ { "enum": ["role_arns", "organization"] }, object(&GRANT) ] }),
        ),
    ],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

pub static GRANT: Table = Table {
    keys: &[
        key("organization", false, "any workload role name in accounts of this organization", string),
        key(
            "org_paths",
            false,
            "any workload role name under these organization paths",
            || json!({ "type": "array", "items": { "type": "string" }, "minItems": 1 }),
        ),
    ],
    exactly_one_of: &["organization", "org_paths"],
    at_least_one_of: &[],
};

pub static WORKLOAD: Table = Table {
    keys: &[
        key("name", true, "a unique workload name, used in addresses", string),
        key("account", true, "the workload account ID", account),
        key("role", false, "the workload role (default: defaults.role)", role),
        key("access", false, "how xacct reaches this account (default: defaults.access)", access),
        key("external_id", false, "sts:ExternalId condition and the identity's externalID", string),
        key("identity", false, "the AWSClusterRoleIdentity", identity),
        key(
            "manifests",
            false,
            "cluster manifests to patch, relative to this file",
            || json!({ "type": "array", "items": { "type": "string" } }),
        ),
        key(
            "bootstrap",
            false,
            "CAPA's prerequisite IAM in this account (default: the top-level bootstrap; false: none)",
            bootstrap,
        ),
    ],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

pub static IDENTITY: Table = Table {
    keys: &[
        key("name", false, "the identity's name (default: the workload's name)", string),
        key("allowed_namespaces", false, "all | none | [ns, …] | {selector: {matchLabels: {…}}}", allowed_namespaces),
        key("duration_seconds", false, "session length, 900–43200 (CAPA's role chaining caps it at 3600)", duration),
        key("session_name", false, "2–64 characters of letters, digits and +=,.@_-", string),
    ],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

pub static ORGANIZATION: Table = Table {
    keys: &[
        key(
            "access",
            false,
            "how xacct reaches an account that may list the organization (its management account or a delegated administrator; default: the default credential chain)",
            access,
        ),
        key(
            "workloads",
            true,
            "the selectors: each selects the ACTIVE accounts below an OU",
            || json!({ "type": "array", "items": object(&ORG_SELECTOR), "minItems": 1 }),
        ),
    ],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

/// An OU ID (`ou-ab12-11111111`) or a root ID (`r-ab12`), as AWS Organizations documents them.
pub const OU_OR_ROOT_PATTERN: &str = "^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$";

pub static ORG_SELECTOR: Table = Table {
    keys: &[
        key(
            "ou",
            true,
            "an OU ID (ou-…) or a root ID (r-…): every ACTIVE account below it, nested OUs included",
            || json!({ "type": "string", "pattern": OU_OR_ROOT_PATTERN }),
        ),
        key("tags", false, "only accounts with every one of these tags, with exactly these values", labels),
        key(
            "except",
            false,
            "account IDs this selector never selects",
            || json!({ "type": "array", "items": account() }),
        ),
        key("role", false, "the workload role in each selected account (default: defaults.role)", role),
        key("access", false, "how xacct reaches each selected account (default: defaults.access)", access),
        key("external_id", false, "sts:ExternalId condition and the identity's externalID", string),
        key(
            "identity",
            false,
            "each selected account's AWSClusterRoleIdentity (named after its workload: no `name`)",
            identity_defaults,
        ),
        key(
            "identities_dir",
            false,
            "a directory, relative to this file, where xacct writes each selected account's identity",
            string,
        ),
        key(
            "bootstrap",
            false,
            "CAPA's prerequisite IAM in each selected account (default: the top-level bootstrap; false: none)",
            bootstrap,
        ),
    ],
    exactly_one_of: &[],
    at_least_one_of: &[],
};

/// The JSON Schema of one mapping: only its keys, its required ones, its "exactly one of".
pub fn object(table: &Table) -> Value {
    let mut properties = Map::new();
    for k in table.keys {
        let mut v = (k.value)();
        if let Value::Object(o) = &mut v {
            o.entry("description").or_insert_with(|| Value::String(k.doc.to_string()));
        }
        properties.insert(k.name.to_string(), v);
    }
    let required: Vec<&str> = table.keys.iter().filter(|k| k.required).map(|k| k.name).collect();
    let mut o = json!({ "type": "object", "additionalProperties": false, "properties": properties });
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    if !table.exactly_one_of.is_empty() {
        o["oneOf"] = Value::Array(table.exactly_one_of.iter().map(|k| json!({ "required": [k] })).collect());
    }
    if !table.at_least_one_of.is_empty() {
        o["anyOf"] = Value::Array(table.at_least_one_of.iter().map(|k| json!({ "required": [k] })).collect());
    }
    o
}

/// The JSON Schema (draft 2020-12) of the desired-state file.
pub fn schema() -> Value {
    let mut s = object(&ROOT);
    let top = s.as_object_mut().expect("an object");
    let mut head = Map::new();
    head.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
    head.insert("title".into(), json!("xacct desired-state file (version 1)"));
    head.insert(
        "description".into(),
        json!("Generated by `xacct schema` from the key tables xacct validates with. See docs/spec.md."),
    );
    head.append(top);
    Value::Object(head)
}
