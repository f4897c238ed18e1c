//! Property test: unrelated documents, comments and layouts around the identity-carrying objects
//! come through patch and unpatch byte for byte.

use std::path::Path;

use proptest::prelude::*;
use xacct_manifest::{patch, unpatch, AllowedNamespaces, IdentitySpec, Manifest, RecordedEdit};

const ROLE: &str = "arn:aws:iam::222222222222:role/control-plane.cluster-api-provider-aws.sigs.k8s.io";

#[derive(Clone, Debug)]
enum RefStyle {
    Absent,
    Empty,
    Block,
    Flow,
}

#[derive(Clone, Debug)]
enum Chunk {
    Unrelated(String),
    /// kind index, name, namespace, reference style, comment above the first spec key
    Target(usize, String, Option<String>, RefStyle, Option<String>),
}

fn word() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,8}[a-z0-9]"
}

fn comment() -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..4).prop_map(|w| format!("# {}", w.join(" ")))
}

/// An unrelated document or comment, written with `{I}` for one indentation level.
fn unrelated() -> impl Strategy<Value = String> {
    prop_oneof![
        comment().prop_map(|c| format!("{c}\n")),
        Just("\n".to_string()),
        (word(), prop::collection::vec("[ -~]{0,30}", 1..4), any::<bool>()).prop_map(|(n, lines, keep)| {
            let body: String = lines.iter().map(|l| format!("{{I}}{{I}}{}\n", l.trim())).collect();
            let chomp = if keep { "|+" } else { "|" };
            format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n{{I}}name: {n}\ndata:\n{{I}}script.sh: {chomp}\n{body}\n")
        }),
        (word(), word(), comment()).prop_map(|(n, v, c)| format!(
            "---\n{c}\napiVersion: v1\nkind: Secret\nmetadata: {{name: \"{n}\", labels: {{app: '{v}'}}}}\nstringData: {{ key: \"a: b # not a comment\" }}\n...\n"
        )),
        (word(), prop::collection::vec(word(), 1..4), any::<bool>()).prop_map(|(n, items, indented)| {
            let dash = if indented { "{I}{I}" } else { "{I}" };
            let list: String = items.iter().map(|i| format!("{dash}- {i}  # {i}\n")).collect();
            format!("---\napiVersion: cluster.x-k8s.io/v1beta1\nkind: MachineDeployment\nmetadata:\n{{I}}name: {n}\nspec:\n{{I}}args:\n{list}{{I}}clusterName: \"{n}\"\n")
        }),
    ]
}

fn ref_style() -> impl Strategy<Value = RefStyle> {
    prop_oneof![Just(RefStyle::Absent), Just(RefStyle::Empty), Just(RefStyle::Block), Just(RefStyle::Flow)]
}

fn target() -> impl Strategy<Value = Chunk> {
    (0..4usize, word(), prop::option::of(word()), ref_style(), prop::option::of(comment()))
        .prop_map(|(k, n, ns, r, c)| Chunk::Target(k, format!("c-{n}"), ns, r, c))
}

fn render_target(
    kind: usize,
    name: &str,
    ns: &Option<String>,
    style: &RefStyle,
    comment: &Option<String>,
    old: &str,
) -> String {
    let ns = ns.as_ref().map(|ns| format!("{{I}}namespace: {ns}\n")).unwrap_or_default();
    let head = |api: &str, k: &str| format!("---\napiVersion: {api}\nkind: {k}\nmetadata:\n{{I}}name: {name}\n{ns}");
    let comment = comment.as_ref().map(|c| format!("{c}\n")).unwrap_or_default();
    if kind == 3 {
        let value = match style {
            RefStyle::Flow | RefStyle::Absent => {
                format!("{{I}}{{I}}  value: {{kind: AWSClusterRoleIdentity, name: {old}}}\n")
            }
            _ => format!(
                "{{I}}{{I}}  value:\n{{I}}{{I}}  {{I}}kind: AWSClusterRoleIdentity\n{{I}}{{I}}  {{I}}name: {old}\n"
            ),
        };
        let comment = comment.lines().map(|c| format!("{{I}}{{I}}{c}\n")).collect::<String>();
        return head("cluster.x-k8s.io/v1beta1", "Cluster")
            + "spec:\n{I}topology:\n{I}{I}class: aws\n{I}{I}variables:\n{I}{I}- name: region\n{I}{I}  value: us-west-2\n"
            + &comment
            + "{I}{I}- name: identityRef\n"
            + &value;
    }
    let (api, k, nest) = match kind {
        0 => ("infrastructure.cluster.x-k8s.io/v1beta2", "AWSCluster", 1),
        1 => ("infrastructure.cluster.x-k8s.io/v1beta2", "AWSClusterTemplate", 3),
        _ => ("controlplane.cluster.x-k8s.io/v1beta2", "AWSManagedControlPlane", 1),
    };
    let mut spec = String::from("spec:\n");
    if nest == 3 {
        spec.push_str("{I}template:\n{I}{I}spec:\n");
    }
    let i = "{I}".repeat(nest);
    let reference = match style {
        RefStyle::Absent => String::new(),
        RefStyle::Empty => format!("{i}identityRef:\n"),
        RefStyle::Block => format!("{i}identityRef:\n{i}{{I}}kind: AWSClusterRoleIdentity\n{i}{{I}}name: {old}\n"),
        RefStyle::Flow => format!("{i}identityRef: {{kind: AWSClusterRoleIdentity, name: {old}}}\n"),
    };
    let comment = comment.lines().map(|c| format!("{i}{c}\n")).collect::<String>();
    head(api, k) + &spec + &comment + &format!("{i}region: us-west-2  # region\n{reference}{i}sshKeyName: \"k\"\n")
}

/// Lines that may legitimately differ: the reference entries and the owned identity fields.
fn owned_line(line: &str) -> bool {
    let t = line.trim_start().trim_start_matches("- ").trim_end();
    t.starts_with("identityRef:")
        || t.starts_with("value:")
        || t.starts_with("kind: AWSClusterRoleIdentity")
        || t.starts_with("roleARN:")
        || t == "name: id"
        || t == "name: old"
}

fn filtered(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').filter(|l| !owned_line(l)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn patch_and_unpatch_preserve_everything_else(
        chunks in prop::collection::vec(prop_oneof![3 => unrelated().prop_map(Chunk::Unrelated), 1 => target()], 1..10),
        first in target(),
        indent in prop_oneof![Just(2usize), Just(4usize)],
        crlf in any::<bool>(),
        old_is_desired in any::<bool>(),
        existing_identity in any::<bool>(),
        trailing_newline in any::<bool>(),
    ) {
        let old = if old_is_desired { "id" } else { "old" };
        let unit = " ".repeat(indent);
        let nl = if crlf { "\r\n" } else { "\n" };
        let finish = |s: &str| s.replace("{I}", &unit).replace('\n', nl);

        let mut all = vec![first];
        all.extend(chunks);
        let mut text = String::new();
        let mut unrelated_parts = Vec::new();
        for chunk in &all {
            match chunk {
                Chunk::Unrelated(u) => {
                    let u = finish(u);
                    unrelated_parts.push(u.clone());
                    text.push_str(&u);
                }
                Chunk::Target(k, n, ns, style, c) => text.push_str(&finish(&render_target(*k, n, ns, style, c, old))),
            }
        }
        if existing_identity {
            text.push_str(&finish(
                "---\n# hand-made identity\napiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSClusterRoleIdentity\nmetadata:\n{I}name: id\nspec:\n{I}allowedNamespaces: {}\n{I}roleARN: arn:aws:iam::111111111111:role/old\n{I}sourceIdentityRef: {kind: AWSClusterControllerIdentity, name: default}\n",
            ));
        }
        if !trailing_newline {
            let trimmed = text.trim_end_matches(['\r', '\n']).len();
            text.truncate(trimmed);
        }

        let m = Manifest::parse(Path::new("p.yaml"), &text)
            .map_err(|e| TestCaseError::fail(format!("generated invalid yaml: {e}\n{text}")))?;
        let spec = IdentitySpec {
            name: "id".into(),
            role_arn: ROLE.into(),
            allowed_namespaces: AllowedNamespaces::All,
            external_id: None,
            duration_seconds: None,
            session_name: None,
        };
        let patched = patch(&m, &spec).unwrap();

        // Unpatch restores the exact bytes; patching again changes nothing.
        prop_assert_eq!(&unpatch(&patched.text, &patched.record).unwrap(), &text);
        let again = patch(&Manifest::parse(Path::new("p.yaml"), &patched.text).unwrap(), &spec).unwrap();
        prop_assert!(!again.changed);

        // Every reference now names the identity.
        for t in Manifest::parse(Path::new("p.yaml"), &patched.text).unwrap().targets() {
            let r = t.identity_ref.unwrap();
            prop_assert_eq!((r.kind.as_str(), r.name.as_str()), ("AWSClusterRoleIdentity", "id"));
        }

        // New text uses the file's line ending.
        if crlf {
            prop_assert!(!patched.text.replace("\r\n", "").contains('\n'));
        }

        // Outside the owned lines, nothing changed, and unrelated chunks survive verbatim, in order.
        let mut body = patched.text.as_str();
        for edit in patched.record.steps.iter().flat_map(|s| &s.edits) {
            if let RecordedEdit::AppendIdentity { text: appended, .. } = edit {
                body = body.strip_suffix(appended.as_str()).unwrap();
            }
        }
        let body = if trailing_newline { body.to_string() } else { body.trim_end_matches(['\r', '\n']).to_string() };
        prop_assert_eq!(filtered(&body), filtered(&text));
        let mut cursor = 0;
        for part in &unrelated_parts {
            let at = patched.text[cursor..].find(part.trim_end_matches(['\r', '\n']));
            prop_assert!(at.is_some(), "unrelated chunk lost: {:?}", part);
            cursor += at.unwrap_or(0) + 1;
        }
    }
}
