//! ClusterClass: which identity each topology `Cluster` ends up with, read from the file.
//!
//! A topology `Cluster` gets its identity from its ClusterClass: from the `identityRef`
//! variable when the class declares it and a patch writes it to the template's
//! `spec.template.spec.identityRef`; else from the class's `AWSClusterTemplate` (for EKS, its
//! `AWSManagedControlPlaneTemplate`), which the topology controller clones into every cluster of
//! the class; else the controller's default identity. This module works that out from the
//! documents in the file and words the warnings the patcher reports. It edits nothing.

use crate::manifest::{Found, Manifest, CLUSTER_GROUP, ROLE_IDENTITY};
use crate::model::{IdentitySpec, TargetKind};
use crate::tree::Node;

const VARIABLE: &str = "identityRef";
const IDENTITY_PATH: &str = "/spec/template/spec/identityRef";
const EXAMPLE: &str = "CAPA's `cluster-template-multitenancy-clusterclass.yaml`";
const ADD_VARIABLE: &str = "`{name: identityRef, value: {}}` under `spec.topology.variables`";

/// A warning to report: the byte offset it points at and its text.
pub(crate) struct Note {
    pub at: usize,
    pub message: String,
}

/// Where a class patch takes a template's `identityRef` from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    /// `valueFrom.variable` (the variable's name, without a `.field` suffix).
    Variable(String),
    /// A `value` written in the class, or a `remove`: the class decides, not the cluster.
    Class,
    /// `valueFrom.template`: computed, xacct cannot tell.
    Computed,
}

struct Class {
    name: String,
    namespace: String,
    /// The template whose `identityRef` the class's clusters get: kind and name.
    template: Option<(String, String)>,
    /// The class declares an `identityRef` variable.
    declares: bool,
    sources: Vec<Source>,
    /// Some patch is an external (runtime extension) patch: it may set anything.
    external: bool,
}

impl Class {
    fn uses_variable(&self) -> bool {
        self.declares && self.sources.contains(&Source::Variable(VARIABLE.to_string()))
    }

    fn describe(&self) -> String {
        format!("ClusterClass `{}/{}`", self.namespace, self.name)
    }

    /// An identity the class's patches decide without xacct's variable: what to say about it.
    fn override_note(&self) -> Option<String> {
        if self.external || self.sources.contains(&Source::Computed) {
            let how = if self.external { "an external patch" } else { "a `valueFrom.template` patch" };
            return Some(format!(
                "{} may set `identityRef` through {how}: xacct cannot tell which identity its clusters use",
                self.describe()
            ));
        }
        if self.sources.contains(&Source::Class) {
            return Some(format!(
                "{} patches `{IDENTITY_PATH}` with a value of its own, so its clusters do not use the identity xacct sets",
                self.describe()
            ));
        }
        let other = self.sources.iter().find_map(|s| match s {
            Source::Variable(v) if v != VARIABLE => Some(v.as_str()),
            _ => None,
        })?;
        Some(format!(
            "{} sets `{IDENTITY_PATH}` from variable `{other}`, which xacct does not set: its clusters that set `{other}` use that identity instead of the one xacct sets",
            self.describe()
        ))
    }
}

/// A topology `Cluster`.
struct TopologyCluster<'a> {
    root: &'a Node,
    name: String,
    namespace: String,
    class: String,
    class_namespace: String,
    /// Its `identityRef` variable, when it sets one.
    variable: Option<&'a Node>,
}

impl TopologyCluster<'_> {
    fn describe(&self) -> String {
        format!("`Cluster` `{}/{}`", self.namespace, self.name)
    }

    fn of(&self, c: &Class) -> bool {
        c.name == self.class && c.namespace == self.class_namespace
    }
}

/// A template in the file that xacct points at the identity.
struct Template<'a> {
    root: &'a Node,
    kind: &'static str,
    name: String,
    namespace: String,
}

impl Template<'_> {
    fn describe(&self) -> String {
        format!("`{}` `{}/{}`", self.kind, self.namespace, self.name)
    }

    fn is(&self, c: &Class) -> bool {
        c.namespace == self.namespace && c.template.as_ref().is_some_and(|(k, n)| k == self.kind && *n == self.name)
    }
}

fn namespace_of(root: &Node) -> String {
    root.str_at(&["metadata", "namespace"]).unwrap_or("default").to_string()
}

fn name_of(root: &Node) -> String {
    root.str_at(&["metadata", "name"]).unwrap_or_default().to_string()
}

/// `spec.<part>.ref` (ClusterClass v1beta1) or `spec.<part>.templateRef` (v1beta2).
fn template_ref<'a>(spec: &'a Node, part: &str) -> Option<&'a Node> {
    spec.at(&[part, "ref"]).or_else(|| spec.at(&[part, "templateRef"]))
}

fn classes(m: &Manifest) -> Vec<Class> {
    m.roots_of("ClusterClass", CLUSTER_GROUP)
        .map(|root| {
            let spec = root.get("spec");
            let pick = |part: &str, kind: &str| {
                spec.and_then(|s| template_ref(s, part))
                    .filter(|r| r.str_at(&["kind"]) == Some(kind))
                    .map(|r| (kind.to_string(), r.str_at(&["name"]).unwrap_or_default().to_string()))
            };
            let template = pick("infrastructure", "AWSClusterTemplate")
                .or_else(|| pick("controlPlane", "AWSManagedControlPlaneTemplate"));
            let list = |key: &str| spec.and_then(|s| s.get(key)).map(Node::items).unwrap_or_default();
            let declares = list("variables").iter().any(|v| v.str_at(&["name"]) == Some(VARIABLE));
            let mut sources = Vec::new();
            let mut external = false;
            for p in list("patches") {
                external |= p.get("external").is_some();
                for d in p.get("definitions").map(Node::items).unwrap_or_default() {
                    let kind = d.str_at(&["selector", "kind"]);
                    if template.as_ref().is_none_or(|(k, _)| Some(k.as_str()) != kind) {
                        continue;
                    }
                    for jp in d.get("jsonPatches").map(Node::items).unwrap_or_default() {
                        let Some(path) = jp.str_at(&["path"]) else { continue };
                        if path != IDENTITY_PATH && !path.starts_with(&format!("{IDENTITY_PATH}/")) {
                            continue;
                        }
                        let source = if let Some(v) = jp.str_at(&["valueFrom", "variable"]) {
                            Source::Variable(v.split('.').next().unwrap_or(v).to_string())
                        } else if jp.at(&["valueFrom", "template"]).is_some() {
                            Source::Computed
                        } else {
                            Source::Class
                        };
                        if !sources.contains(&source) {
                            sources.push(source);
                        }
                    }
                }
            }
            Class { name: name_of(root), namespace: namespace_of(root), template, declares, sources, external }
        })
        .collect()
}

fn topology_clusters(m: &Manifest) -> Vec<TopologyCluster<'_>> {
    m.roots_of("Cluster", CLUSTER_GROUP)
        .filter_map(|root| {
            let topology = root.at(&["spec", "topology"])?;
            let namespace = namespace_of(root);
            let class = topology.str_at(&["class"]).or_else(|| topology.str_at(&["classRef", "name"]));
            let class_namespace =
                topology.str_at(&["classNamespace"]).or_else(|| topology.str_at(&["classRef", "namespace"]));
            let variable = topology
                .get("variables")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .find(|v| v.str_at(&["name"]) == Some(VARIABLE));
            Some(TopologyCluster {
                root,
                name: name_of(root),
                class: class.unwrap_or_default().to_string(),
                class_namespace: class_namespace.map_or_else(|| namespace.clone(), str::to_string),
                namespace,
                variable,
            })
        })
        .collect()
}

fn templates<'a>(found: &[Found<'a>]) -> Vec<Template<'a>> {
    found
        .iter()
        .filter(|f| matches!(f.kind, TargetKind::AwsClusterTemplate | TargetKind::AwsManagedControlPlaneTemplate))
        .map(|f| Template {
            root: f.root,
            kind: f.kind.kind(),
            name: f.object.name.clone(),
            namespace: f.object.effective_namespace().to_string(),
        })
        .collect()
}

/// `` `AWSClusterRoleIdentity` `name` (the role in account 222222222222) ``.
fn identity(spec: &IdentitySpec) -> String {
    let account = spec.role_arn.split(':').nth(4).filter(|a| !a.is_empty());
    let account = account.map(|a| format!(" (the role in account {a})")).unwrap_or_default();
    format!("`{ROLE_IDENTITY}` `{}`{account}", spec.name)
}

/// Which identity each topology `Cluster` in `m` ends up with once xacct has patched `found` to
/// `spec`, as warnings where that is not simply the cluster's own `identityRef` variable:
/// a template shared by every cluster of a class, a variable the class does not use, a class
/// or template not in the file.
pub(crate) fn notes(m: &Manifest, found: &[Found<'_>], spec: &IdentitySpec) -> Vec<Note> {
    let who = identity(spec);
    let classes = classes(m);
    let clusters = topology_clusters(m);
    let templates = templates(found);
    let mut notes = Vec::new();

    for t in &templates {
        let users: Vec<&Class> = classes.iter().filter(|c| t.is(c)).collect();
        if users.is_empty() {
            notes.push(Note {
                at: t.root.start,
                message: format!(
                    "{} names {who}: every cluster of a ClusterClass built on it uses that identity, unless the class sets `identityRef` from a variable",
                    t.describe()
                ),
            });
        }
        for c in users {
            let members: Vec<String> = clusters.iter().filter(|k| k.of(c)).map(TopologyCluster::describe).collect();
            let message = if let Some(note) = c.override_note() {
                format!("{note} ({} names {who})", t.describe())
            } else if c.uses_variable() {
                format!(
                    "{} of {} names {who}: a cluster of that class that sets the `identityRef` variable uses its own value, every other one uses this identity",
                    t.describe(),
                    c.describe()
                )
            } else {
                let why = if c.declares {
                    format!("declares an `identityRef` variable but no patch writes it to `{IDENTITY_PATH}`")
                } else {
                    "has no `identityRef` variable".to_string()
                };
                let here =
                    if members.is_empty() { String::new() } else { format!(" ({} in this file)", members.join(", ")) };
                format!(
                    "{} is the template of {}, which {why}: every cluster of that class{here} uses {who}, not only this file's; to give clusters of one class different accounts, declare an `identityRef` variable in the class with a patch to `{IDENTITY_PATH}` (as {EXAMPLE} does) and set it in each `Cluster`",
                    t.describe(),
                    c.describe()
                )
            };
            notes.push(Note { at: t.root.start, message });
        }
    }

    for k in &clusters {
        let Some(c) = classes.iter().find(|c| k.of(c)) else {
            if k.variable.is_none() {
                let free: Vec<String> = templates
                    .iter()
                    .filter(|t| t.namespace == k.class_namespace && !classes.iter().any(|c| t.is(c)))
                    .map(Template::describe)
                    .collect();
                let from_here = match free.as_slice() {
                    [] => String::new(),
                    _ => {
                        format!("; if that class is built on {} of this file, it gets {who} from it", free.join(" or "))
                    }
                };
                notes.push(Note {
                    at: k.root.start,
                    message: format!(
                        "{} has no `identityRef` variable and its ClusterClass `{}/{}` is not in this file: it gets whatever identity that class gives it, which may be the controller's default identity (the management account){from_here}; if the class declares an `identityRef` variable, add {ADD_VARIABLE}",
                        k.describe(),
                        k.class_namespace,
                        k.class
                    ),
                });
            }
            continue;
        };
        let in_file = templates.iter().find(|t| t.is(c));
        let from_template = match (&c.template, in_file) {
            (Some(_), Some(t)) => format!("the identity of {}, which xacct sets to {who}", t.describe()),
            (Some((kind, name)), None) => format!(
                "the identity of `{kind}` `{}/{name}`, which is not in this file (the controller's default identity, the management account, unless that template names one)",
                c.namespace
            ),
            (None, _) => format!(
                "whatever its class's templates give it ({} names no `AWSClusterTemplate` or `AWSManagedControlPlaneTemplate`)",
                c.describe()
            ),
        };
        let message = match k.variable {
            _ if c.override_note().is_some() => match in_file {
                // The template's note says it.
                Some(_) => None,
                None => c.override_note(),
            },
            Some(_) if !c.declares => Some(format!(
                "{} sets an `identityRef` variable that its {} does not declare: the topology controller rejects a `Cluster` with an undeclared variable; declare it in the class with a patch to `{IDENTITY_PATH}` (as {EXAMPLE} does)",
                k.describe(),
                c.describe()
            )),
            Some(_) if !c.uses_variable() => Some(format!(
                "{} declares `identityRef` but no patch writes it to `{IDENTITY_PATH}`: the value xacct sets on {} has no effect, and the cluster uses {from_template}",
                c.describe(),
                k.describe()
            )),
            Some(_) => None,
            None if c.uses_variable() => Some(format!(
                "{} does not set the `identityRef` variable that its {} declares, so it uses {from_template}; add {ADD_VARIABLE} and xacct sets it",
                k.describe(),
                c.describe()
            )),
            // The template's note says what the cluster uses.
            None if in_file.is_some() => None,
            None => Some(format!(
                "{} has no `identityRef` variable and its {} {}, so it uses {from_template}; add that template to this file (every cluster of the class then uses this workload's identity), or declare an `identityRef` variable in the class with a patch to `{IDENTITY_PATH}` (as {EXAMPLE} does) and set it in each `Cluster`",
                k.describe(),
                c.describe(),
                if c.declares { "declares one that no patch uses" } else { "declares none" }
            )),
        };
        if let Some(message) = message {
            let at = k.variable.map_or(k.root.start, |v| v.start);
            notes.push(Note { at, message });
        }
    }
    notes
}

/// Why a file without targets has none, when a topology `Cluster` explains it.
pub(crate) fn no_targets(m: &Manifest, spec: &IdentitySpec) -> Option<Note> {
    notes(m, &[], spec).into_iter().next()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A class as read: its template, whether it declares the variable, its patch sources and
    /// whether it has an external patch.
    type Read = (Option<(String, String)>, bool, Vec<Source>, bool);

    fn class(text: &str) -> Vec<Read> {
        let m = Manifest::parse(Path::new("c.yaml"), text).unwrap();
        classes(&m).into_iter().map(|c| (c.template, c.declares, c.sources, c.external)).collect()
    }

    const HEAD: &str = "apiVersion: cluster.x-k8s.io/v1beta1\nkind: ClusterClass\nmetadata:\n  name: c\nspec:\n";

    #[test]
    fn reads_the_template_the_variable_and_the_patch_sources() {
        let text = format!(
            "{HEAD}  infrastructure:\n    ref: {{kind: AWSClusterTemplate, name: t}}\n  variables:\n  - name: identityRef\n  patches:\n  - name: a\n    definitions:\n    - selector: {{kind: AWSClusterTemplate}}\n      jsonPatches:\n      - {{op: replace, path: /spec/template/spec/identityRef, valueFrom: {{variable: identityRef}}}}\n      - {{op: add, path: /spec/template/spec/identityRef/name, valueFrom: {{variable: other.name}}}}\n      - {{op: add, path: /spec/template/spec/region, valueFrom: {{variable: region}}}}\n    - selector: {{kind: AWSMachineTemplate}}\n      jsonPatches:\n      - {{op: add, path: /spec/template/spec/identityRef, value: x}}\n"
        );
        let got = class(&text);
        assert_eq!(
            got,
            vec![(
                Some(("AWSClusterTemplate".into(), "t".into())),
                true,
                vec![Source::Variable("identityRef".into()), Source::Variable("other".into())],
                false
            )]
        );
    }

    #[test]
    fn eks_classes_carry_the_identity_on_the_control_plane_template() {
        let text = format!(
            "{HEAD}  controlPlane:\n    templateRef: {{kind: AWSManagedControlPlaneTemplate, name: cp}}\n  infrastructure:\n    templateRef: {{kind: AWSManagedClusterTemplate, name: i}}\n  patches:\n  - name: x\n    external: {{generateExtension: g}}\n  - name: y\n    definitions:\n    - selector: {{kind: AWSManagedControlPlaneTemplate}}\n      jsonPatches:\n      - {{op: remove, path: /spec/template/spec/identityRef}}\n      - {{op: add, path: /spec/template/spec/identityRef, valueFrom: {{template: '{{{{ .x }}}}'}}}}\n"
        );
        let got = class(&text);
        assert_eq!(
            got,
            vec![(
                Some(("AWSManagedControlPlaneTemplate".into(), "cp".into())),
                false,
                vec![Source::Class, Source::Computed],
                true
            )]
        );
    }

    #[test]
    fn identity_names_the_account_of_the_role() {
        let spec = IdentitySpec {
            name: "dev".into(),
            role_arn: "arn:aws:iam::222222222222:role/r".into(),
            allowed_namespaces: crate::AllowedNamespaces::All,
            external_id: None,
            duration_seconds: None,
            session_name: None,
        };
        assert_eq!(identity(&spec), "`AWSClusterRoleIdentity` `dev` (the role in account 222222222222)");
    }
}
