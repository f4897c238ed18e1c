//! A parsed manifest and the objects in it that carry an identity.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::ManifestError;
use crate::model::{IdentityRef, Target, TargetKind};
use crate::record::ObjectRef;
use crate::text::{Layout, LayoutVotes, LineIndex};
use crate::tree::{parse_stream, Doc, Node, NodeKind};

pub(crate) const INFRA_GROUP: &str = "infrastructure.cluster.x-k8s.io";
pub(crate) const ROLE_IDENTITY: &str = "AWSClusterRoleIdentity";
pub(crate) const CONTROLPLANE_GROUP: &str = "controlplane.cluster.x-k8s.io";
pub(crate) const CLUSTER_GROUP: &str = "cluster.x-k8s.io";

/// A CAPA cluster manifest: its path, its exact text and a positioned parse of every document.
#[derive(Clone, Debug)]
pub struct Manifest {
    path: PathBuf,
    text: String,
    docs: Vec<Doc>,
    lines: LineIndex,
    layout: Layout,
}

/// An object that carries (or should carry) an identity reference, located in the tree.
pub(crate) struct Found<'a> {
    pub kind: TargetKind,
    pub object: ObjectRef,
    pub root: &'a Node,
    /// The mapping that holds the reference key; `None` when it does not exist.
    pub holder: Option<&'a Node>,
    /// `identityRef`, or `value` for a ClusterClass variable.
    pub key: &'static str,
}

impl Found<'_> {
    /// The current reference, if the key is present and set.
    pub(crate) fn identity_ref(&self) -> Option<IdentityRef> {
        let value = self.holder?.get(self.key)?;
        let name = value.get("name")?.as_str()?;
        Some(IdentityRef { kind: value.str_at(&["kind"]).unwrap_or_default().to_string(), name: name.to_string() })
    }

    /// Human description for messages: `` `AWSCluster` `ns/name` ``.
    pub(crate) fn describe(&self) -> String {
        self.object.to_string()
    }
}

pub(crate) fn group_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

impl Manifest {
    /// Parses `text`; `path` is used in messages only.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ManifestError> {
        let lines = LineIndex::new(text);
        let docs = parse_stream(text).map_err(|e| {
            let (line, column) = lines.line_col(text, e.at);
            ManifestError::Syntax { path: path.to_path_buf(), line, column, message: e.message }
        })?;
        let mut m =
            Manifest { path: path.to_path_buf(), text: text.to_string(), docs, lines, layout: Layout::default() };
        let mut votes = LayoutVotes::default();
        for root in m.roots() {
            m.vote(root, &mut votes);
        }
        m.layout = votes.finish(text);
        Ok(m)
    }

    /// Reads and parses the file at `path`.
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ManifestError::Read { path: path.to_path_buf(), source })?;
        Self::parse(path, &text)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The exact text the manifest was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The objects that carry an identity reference, in file order.
    pub fn targets(&self) -> Vec<Target> {
        self.found()
            .iter()
            .map(|f| {
                let (line, column) = self.pos(f.root.start);
                Target {
                    kind: f.kind,
                    api_version: f.root.str_at(&["apiVersion"]).unwrap_or_default().to_string(),
                    name: f.object.name.clone(),
                    namespace: f.object.effective_namespace().to_string(),
                    identity_ref: f.identity_ref(),
                    line,
                    column,
                }
            })
            .collect()
    }

    /// The namespaces of the identity-carrying objects (`default` when unset): the least
    /// privilege `allowedNamespaces` for this file.
    pub fn namespaces(&self) -> BTreeSet<String> {
        self.found().iter().map(|f| f.object.effective_namespace().to_string()).collect()
    }

    /// Whether anything in the file names identity `name`: an `identityRef` (or ClusterClass
    /// variable) pointing at it, or an `AWSClusterRoleIdentity` document of that name.
    pub fn mentions_identity(&self, name: &str) -> bool {
        !self.identity_docs(name).is_empty()
            || self.found().iter().any(|f| f.identity_ref().is_some_and(|r| r.name == name))
    }

    /// Whether patching with `spec` would change nothing.
    pub fn is_patched(&self, spec: &crate::IdentitySpec) -> Result<bool, ManifestError> {
        crate::patch(self, spec).map(|p| !p.changed)
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    pub(crate) fn lines(&self) -> &LineIndex {
        &self.lines
    }

    /// 1-based line and column of a byte offset.
    pub(crate) fn pos(&self, byte: usize) -> (usize, usize) {
        self.lines.line_col(&self.text, byte)
    }

    /// 0-based character column of a byte offset.
    pub(crate) fn col(&self, byte: usize) -> usize {
        self.pos(byte).1 - 1
    }

    pub(crate) fn roots(&self) -> impl Iterator<Item = &Node> {
        self.docs.iter().filter_map(|d| d.root.as_ref()).filter(|r| r.is_map())
    }

    fn vote(&self, node: &Node, votes: &mut LayoutVotes) {
        match &node.kind {
            NodeKind::Map { entries, flow: false } => {
                for (k, v) in entries {
                    let later_line = self.pos(v.start).0 > self.pos(k.start).0;
                    match &v.kind {
                        NodeKind::Map { flow: false, .. } if later_line => {
                            votes.nested_map(self.col(v.start).saturating_sub(self.col(k.start)));
                        }
                        NodeKind::Seq { flow: false, .. } if later_line => {
                            votes.nested_seq(self.col(v.start) > self.col(k.start));
                        }
                        _ => {}
                    }
                    self.vote(v, votes);
                }
            }
            NodeKind::Seq { items, flow: false } => {
                for item in items {
                    self.vote(item, votes);
                }
            }
            _ => {}
        }
    }

    /// Every identity-carrying object, in file order.
    pub(crate) fn found(&self) -> Vec<Found<'_>> {
        let mut out: Vec<Found<'_>> = Vec::new();
        for root in self.roots() {
            let (Some(kind), Some(api_version)) = (root.str_at(&["kind"]), root.str_at(&["apiVersion"])) else {
                continue;
            };
            let group = group_version(api_version).0;
            let (kind, holder, key) = match (kind, group) {
                ("AWSCluster", INFRA_GROUP) => (TargetKind::AwsCluster, root.get("spec"), "identityRef"),
                ("AWSClusterTemplate", INFRA_GROUP) => {
                    (TargetKind::AwsClusterTemplate, root.at(&["spec", "template", "spec"]), "identityRef")
                }
                ("AWSManagedControlPlane", CONTROLPLANE_GROUP) => {
                    (TargetKind::AwsManagedControlPlane, root.get("spec"), "identityRef")
                }
                ("ROSAControlPlane", CONTROLPLANE_GROUP) => {
                    (TargetKind::RosaControlPlane, root.get("spec"), "identityRef")
                }
                ("AWSManagedControlPlaneTemplate", CONTROLPLANE_GROUP) => {
                    (TargetKind::AwsManagedControlPlaneTemplate, root.at(&["spec", "template", "spec"]), "identityRef")
                }
                ("ROSANetwork", INFRA_GROUP) => (TargetKind::RosaNetwork, root.get("spec"), "identityRef"),
                ("ROSARoleConfig", INFRA_GROUP) => (TargetKind::RosaRoleConfig, root.get("spec"), "identityRef"),
                ("Cluster", CLUSTER_GROUP) => {
                    let variable = root
                        .at(&["spec", "topology", "variables"])
                        .into_iter()
                        .flat_map(Node::items)
                        .find(|v| v.str_at(&["name"]) == Some("identityRef"));
                    match variable {
                        Some(v) => (TargetKind::ClusterClassCluster, Some(v), "value"),
                        None => continue,
                    }
                }
                _ => continue,
            };
            let name = root.str_at(&["metadata", "name"]).unwrap_or_default();
            let namespace = root.str_at(&["metadata", "namespace"]).map(str::to_string);
            let ordinal = out
                .iter()
                .filter(|f| f.object.kind == kind.kind() && f.object.name == name && f.object.namespace == namespace)
                .count();
            out.push(Found {
                kind,
                object: ObjectRef { kind: kind.kind().to_string(), name: name.to_string(), namespace, ordinal },
                root,
                holder: holder.filter(|h| h.is_map()),
                key,
            });
        }
        out
    }

    /// The documents of `kind` in API group `group`, in file order.
    pub(crate) fn roots_of<'a>(&'a self, kind: &'a str, group: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.roots().filter(move |r| {
            r.str_at(&["kind"]) == Some(kind) && r.str_at(&["apiVersion"]).map(|v| group_version(v).0) == Some(group)
        })
    }

    /// The `AWSClusterRoleIdentity` documents named `name`.
    pub(crate) fn identity_docs(&self, name: &str) -> Vec<&Node> {
        self.roots()
            .filter(|r| r.str_at(&["kind"]) == Some(ROLE_IDENTITY) && r.str_at(&["metadata", "name"]) == Some(name))
            .collect()
    }

    /// The infrastructure API version the file uses (`v1beta2` when nothing says), and the
    /// node that says so.
    pub(crate) fn infra_version(&self) -> (String, Option<&Node>) {
        fn infra(root: &Node) -> Option<&Node> {
            root.get("apiVersion").filter(|v| v.as_str().is_some_and(|s| group_version(s).0 == INFRA_GROUP))
        }
        let from_targets = self.found().iter().find_map(|f| infra(f.root));
        let from_any = || self.roots().filter(|r| r.str_at(&["kind"]) != Some(ROLE_IDENTITY)).find_map(infra);
        match from_targets.or_else(from_any) {
            Some(node) => (group_version(node.as_str().unwrap_or_default()).1.to_string(), Some(node)),
            None => ("v1beta2".to_string(), None),
        }
    }
}
