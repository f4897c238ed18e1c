//! Reading clusterawsadm's golden CloudFormation templates (and DKP's) and xacct's rendered
//! resource sets into one comparable shape, [`Flat`], and listing every difference between two.
//! Shared by `xacct-bootstrap`'s offline conformance tests and the emulator run in
//! `tests/bootstrap_conformance.rs`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use xacct_bootstrap::{PolicyRef, Principal, ResourceSet};
use xacct_spec::yaml::{self, Node};

/// A YAML node as JSON, every scalar a string (CloudFormation IAM documents hold only strings).
pub fn to_json(node: &Node) -> Value {
    match &node.value {
        yaml::Value::Scalar { text, .. } => Value::String(text.clone()),
        yaml::Value::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        yaml::Value::Map(entries) => Value::Object(
            entries.iter().map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), to_json(v))).collect(),
        ),
    }
}

/// A role: path, trust, permissions boundary, inline policies by name.
pub type FlatRole = (String, Value, Option<String>, BTreeMap<String, Value>);

/// One account's IAM in a shape both sides can be reduced to.
#[derive(Debug, Default, PartialEq)]
pub struct Flat {
    /// name → (path, trust, permissions boundary, inline policies name → document)
    pub roles: BTreeMap<String, FlatRole>,
    /// name → role
    pub instance_profiles: BTreeMap<String, String>,
    /// name → (description, document)
    pub policies: BTreeMap<String, (String, Value)>,
    /// (principal kind, principal name, policy name or ARN)
    pub attachments: BTreeSet<(String, String, String)>,
    /// name → (groups, inline policies)
    pub users: BTreeMap<String, (BTreeSet<String>, BTreeMap<String, Value>)>,
    pub groups: BTreeSet<String>,
}

fn inline(v: Option<&Value>) -> BTreeMap<String, Value> {
    v.and_then(Value::as_array)
        .map(|ps| {
            ps.iter().map(|p| (p["PolicyName"].as_str().unwrap().to_string(), p["PolicyDocument"].clone())).collect()
        })
        .unwrap_or_default()
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// The IAM resources of a CloudFormation template (text).
pub fn from_cloudformation(text: &str) -> Flat {
    let root = to_json(&yaml::parse(text).expect("template parses").expect("template is not empty"));
    let resources = root["Resources"].as_object().expect("Resources");
    let name_of = |id: &str| -> String {
        let r = &resources[id];
        let p = &r["Properties"];
        ["RoleName", "GroupName", "UserName"]
            .iter()
            .find_map(|k| p[*k].as_str())
            .unwrap_or_else(|| panic!("{id} has no name"))
            .to_string()
    };
    let refs = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| match x.get("Ref").and_then(Value::as_str) {
                        Some(id) => name_of(id),
                        None => x.as_str().unwrap().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut f = Flat::default();
    for (id, r) in resources {
        let p = &r["Properties"];
        match r["Type"].as_str().unwrap() {
            "AWS::IAM::Role" => {
                let name = name_of(id);
                f.roles.insert(
                    name.clone(),
                    (
                        p["Path"].as_str().unwrap_or("/").to_string(),
                        p["AssumeRolePolicyDocument"].clone(),
                        p["PermissionsBoundary"].as_str().map(String::from),
                        inline(p.get("Policies")),
                    ),
                );
                for arn in strs(p.get("ManagedPolicyArns")) {
                    f.attachments.insert(("role".into(), name.clone(), arn));
                }
            }
            "AWS::IAM::InstanceProfile" => {
                let roles = refs(p.get("Roles"));
                assert_eq!(roles.len(), 1, "{id}: one role per instance profile");
                f.instance_profiles.insert(p["InstanceProfileName"].as_str().unwrap().to_string(), roles[0].clone());
            }
            "AWS::IAM::ManagedPolicy" => {
                let name = p["ManagedPolicyName"].as_str().unwrap().to_string();
                f.policies.insert(
                    name.clone(),
                    (p["Description"].as_str().unwrap_or_default().to_string(), p["PolicyDocument"].clone()),
                );
                for role in refs(p.get("Roles")) {
                    f.attachments.insert(("role".into(), role, name.clone()));
                }
                for group in refs(p.get("Groups")) {
                    f.attachments.insert(("group".into(), group, name.clone()));
                }
            }
            "AWS::IAM::Group" => {
                f.groups.insert(name_of(id));
            }
            "AWS::IAM::User" => {
                let name = name_of(id);
                for arn in strs(p.get("ManagedPolicyArns")) {
                    f.attachments.insert(("user".into(), name.clone(), arn));
                }
                f.users.insert(name, (refs(p.get("Groups")).into_iter().collect(), inline(p.get("Policies"))));
            }
            other => panic!("{id}: unexpected resource type {other}"),
        }
    }
    f
}

/// A rendered set in the same shape.
pub fn from_set(set: &ResourceSet) -> Flat {
    let mut f = Flat::default();
    for r in &set.roles {
        f.roles.insert(
            r.name.clone(),
            (
                r.path.clone(),
                r.trust.clone(),
                r.permissions_boundary.clone(),
                r.inline_policies.iter().map(|p| (p.name.clone(), p.document.clone())).collect(),
            ),
        );
    }
    for p in &set.instance_profiles {
        f.instance_profiles.insert(p.name.clone(), p.role.clone());
    }
    for p in &set.policies {
        f.policies.insert(p.name.clone(), (p.description.clone(), p.document.clone()));
    }
    for a in &set.attachments {
        let kind = match a.to {
            Principal::Role(_) => "role",
            Principal::User(_) => "user",
            Principal::Group(_) => "group",
        };
        let policy = match &a.policy {
            PolicyRef::Managed(n) => n.clone(),
            PolicyRef::Arn(arn) => arn.clone(),
        };
        f.attachments.insert((kind.into(), a.to.name().to_string(), policy));
    }
    for u in &set.users {
        f.users.insert(
            u.name.clone(),
            (
                u.groups.iter().cloned().collect(),
                u.inline_policies.iter().map(|p| (p.name.clone(), p.document.clone())).collect(),
            ),
        );
    }
    for g in &set.groups {
        f.groups.insert(g.name.clone());
    }
    f
}

fn equivalent(a: &Value, b: &Value) -> bool {
    xacct_policy::equivalent_text(&a.to_string(), &b.to_string()).expect("documents parse")
}

fn keys<V>(m: &BTreeMap<String, V>) -> BTreeSet<&String> {
    m.keys().collect()
}

fn inline_diff(what: &str, ours: &BTreeMap<String, Value>, theirs: &BTreeMap<String, Value>, out: &mut Vec<String>) {
    if keys(ours) != keys(theirs) {
        out.push(format!("{what}: inline policies {:?} != {:?}", keys(ours), keys(theirs)));
        return;
    }
    for (n, doc) in ours {
        if !equivalent(doc, &theirs[n]) {
            out.push(format!("{what}: inline policy {n} differs:\n  ours   {doc}\n  theirs {}", theirs[n]));
        }
    }
}

/// Every difference between the rendered set (`ours`) and the template (`theirs`); `documents`
/// compares managed-policy documents too.
pub fn differences(ours: &Flat, theirs: &Flat, documents: bool) -> Vec<String> {
    let mut out = Vec::new();
    if keys(&ours.roles) != keys(&theirs.roles) {
        out.push(format!("roles {:?} != {:?}", keys(&ours.roles), keys(&theirs.roles)));
    }
    for (name, (path, trust, boundary, inl)) in &ours.roles {
        let Some((tp, tt, tb, ti)) = theirs.roles.get(name) else { continue };
        if path != tp {
            out.push(format!("role {name}: path {path} != {tp}"));
        }
        if boundary != tb {
            out.push(format!("role {name}: permissions boundary {boundary:?} != {tb:?}"));
        }
        if !equivalent(trust, tt) {
            out.push(format!("role {name}: trust differs:\n  ours   {trust}\n  theirs {tt}"));
        }
        inline_diff(&format!("role {name}"), inl, ti, &mut out);
    }
    if ours.instance_profiles != theirs.instance_profiles {
        out.push(format!("instance profiles {:?} != {:?}", ours.instance_profiles, theirs.instance_profiles));
    }
    if keys(&ours.policies) != keys(&theirs.policies) {
        out.push(format!("policies {:?} != {:?}", keys(&ours.policies), keys(&theirs.policies)));
    }
    for (name, (desc, doc)) in &ours.policies {
        let Some((td, tdoc)) = theirs.policies.get(name) else { continue };
        if desc != td {
            out.push(format!("policy {name}: description {desc:?} != {td:?}"));
        }
        if documents && !equivalent(doc, tdoc) {
            out.push(format!("policy {name}: document differs:\n  ours   {doc}\n  theirs {tdoc}"));
        }
    }
    for a in ours.attachments.difference(&theirs.attachments) {
        out.push(format!("attachment only in ours: {a:?}"));
    }
    for a in theirs.attachments.difference(&ours.attachments) {
        out.push(format!("attachment only in the template: {a:?}"));
    }
    if keys(&ours.users) != keys(&theirs.users) {
        out.push(format!("users {:?} != {:?}", keys(&ours.users), keys(&theirs.users)));
    }
    for (name, (groups, inl)) in &ours.users {
        let Some((tg, ti)) = theirs.users.get(name) else { continue };
        if groups != tg {
            out.push(format!("user {name}: groups {groups:?} != {tg:?}"));
        }
        inline_diff(&format!("user {name}"), inl, ti, &mut out);
    }
    if ours.groups != theirs.groups {
        out.push(format!("groups {:?} != {:?}", ours.groups, theirs.groups));
    }
    out
}
