//! The `organization` block: selectors and their settings (defaults inherited), `workloads`
//! optional beside it, `grant: organization`, and every bad input with its exact message and place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use xacct_spec::{
    parse_str, Access, AllowedNamespaces, AssumeTarget, Diagnostic, Grant, Identity, ManifestRef, OrgSelector, RoleRef,
    Severity, Spec, DEFAULT_ROLE,
};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn spec(text: &str) -> Spec {
    match parse_str(&dir().join("xacct.yaml"), text) {
        Ok(l) => {
            assert_eq!(l.warnings, Vec::<Diagnostic>::new(), "{text}");
            l.spec
        }
        Err(d) => panic!("does not validate: {d}\n{text}"),
    }
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match parse_str(&dir().join("xacct.yaml"), text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(d) => d.0.into_iter().filter(|d| d.severity == Severity::Error).collect(),
    }
}

/// The only error of `text`: (line, column, field, message, hint).
fn one_error(text: &str) -> (usize, usize, String, String, Option<String>) {
    let e = errors(text);
    assert_eq!(e.len(), 1, "{e:#?}");
    let e = e.into_iter().next().unwrap();
    (e.line, e.column, e.field, e.message, e.hint)
}

const HEAD: &str = "version: 1\nmanagement: { account: \"111111111111\" }\n";

/// A file whose only selector is `selector` (its lines indented under `  - `), at line 5.
fn with_selector(selector: &str) -> String {
    format!("{HEAD}organization:\n  workloads:\n    - {selector}\n")
}

fn capa() -> RoleRef {
    RoleRef { name: DEFAULT_ROLE.into(), path: "/".into() }
}

#[test]
fn a_selector_inherits_role_access_and_identity_from_defaults() {
    let text = "version: 1
defaults:
  role: { name: capa, path: /ops/ }
  access: { assume_role: { role_name: OrganizationAccountAccessRole } }
  identity: { allowed_namespaces: [capi], duration_seconds: 1800, session_name: capa-xacct }
management: { account: \"111111111111\" }
organization:
  access: { assume_role: { role_arn: \"arn:aws:iam::999999999999:role/xacct-org-reader\" } }
  workloads:
    - ou: ou-ab12-11111111
      tags: { capa: enabled, tier: \"3\" }
      except: [\"444444444444\", 555555555555]
      identity: { allowed_namespaces: all }
    - ou: r-ab12
      role: admin
      access: { profile: tenants }
      external_id: capa-tenants
      identity: { session_name: capa-tenant, duration_seconds: 900 }
      identities_dir: identities/
";
    let s = spec(text);
    assert_eq!(s.workloads, []);
    let org = s.organization.expect("an organization");
    assert_eq!(
        org.access,
        Access::AssumeRole {
            role: AssumeTarget::Arn("arn:aws:iam::999999999999:role/xacct-org-reader".into()),
            external_id: None,
            session_name: None,
        }
    );
    assert_eq!((org.pos.line, org.pos.col), (8, 9));
    let [first, second] = &org.selectors[..] else { panic!("{:#?}", org.selectors) };
    assert_eq!(
        *first,
        OrgSelector {
            ou: "ou-ab12-11111111".into(),
            tags: BTreeMap::from([("capa".into(), "enabled".into()), ("tier".into(), "3".into())]),
            except: BTreeSet::from(["444444444444".into(), "555555555555".into()]),
            role: RoleRef { name: "capa".into(), path: "/ops/".into() },
            access: Access::AssumeRole {
                role: AssumeTarget::Name("OrganizationAccountAccessRole".into()),
                external_id: None,
                session_name: None,
            },
            external_id: None,
            identity: Identity {
                name: String::new(),
                allowed_namespaces: Some(AllowedNamespaces::All),
                duration_seconds: Some(1800),
                session_name: Some("capa-xacct".into()),
            },
            identities_dir: None,
            bootstrap: None,
            role_given: true,
            pos: first.pos,
        }
    );
    assert_eq!((first.pos.line, first.pos.col), (10, 9));
    assert_eq!(
        *second,
        OrgSelector {
            ou: "r-ab12".into(),
            tags: BTreeMap::new(),
            except: BTreeSet::new(),
            role: RoleRef { name: "admin".into(), path: "/".into() },
            access: Access::Profile("tenants".into()),
            external_id: Some("capa-tenants".into()),
            identity: Identity {
                name: String::new(),
                allowed_namespaces: Some(AllowedNamespaces::List(vec!["capi".into()])),
                duration_seconds: Some(900),
                session_name: Some("capa-tenant".into()),
            },
            identities_dir: Some(ManifestRef { written: "identities/".into(), path: dir().join("identities/") }),
            bootstrap: None,
            role_given: true,
            pos: second.pos,
        }
    );
}

#[test]
fn without_defaults_a_selector_gets_capas_role_and_the_default_chain() {
    let s = spec(&with_selector("ou: ou-ab12-11111111"));
    let org = s.organization.unwrap();
    assert_eq!(org.access, Access::DefaultChain);
    let sel = &org.selectors[0];
    assert_eq!((&sel.role, &sel.access), (&capa(), &Access::DefaultChain));
    assert_eq!(
        sel.identity,
        Identity { name: String::new(), allowed_namespaces: None, duration_seconds: None, session_name: None }
    );
    // `defaults.access` is for workload accounts: the organization reader does not inherit it.
    let s = spec(&format!(
        "{HEAD}defaults: {{ access: {{ profile: workloads }} }}\norganization:\n  workloads: [{{ ou: r-ab12 }}]\n"
    ));
    let org = s.organization.unwrap();
    assert_eq!(org.access, Access::DefaultChain);
    assert_eq!(org.selectors[0].access, Access::Profile("workloads".into()));
}

#[test]
fn listed_workloads_and_an_organization_coexist() {
    let s = spec(&format!(
        "{HEAD}workloads:\n  - {{ name: dev, account: \"222222222222\" }}\norganization:\n  workloads: [{{ ou: r-ab12 }}]\n"
    ));
    assert_eq!(s.workloads.len(), 1);
    assert_eq!(s.workloads[0].discovered, None);
    assert_eq!(s.organization.unwrap().selectors.len(), 1);
    // Without `organization`, no `organization` in the model.
    let s = spec(&format!("{HEAD}workloads: []\n"));
    assert_eq!(s.organization, None);
}

#[test]
fn a_file_with_only_an_organization_has_no_listed_workloads() {
    let s = spec(&with_selector("ou: ou-ab12-11111111"));
    assert_eq!(s.workloads, []);
    let desired = s.desired();
    let addresses: Vec<String> = desired.graph.levels().concat().iter().map(|a| a.to_string()).collect();
    assert_eq!(addresses, ["role.management"]);
}

#[test]
fn neither_workloads_nor_organization_is_an_error() {
    let (line, col, field, message, hint) = one_error(HEAD);
    assert_eq!((line, col, field.as_str()), (1, 1, "workloads"));
    assert_eq!(message, "missing required key `workloads` (the workload accounts)");
    assert_eq!(
        hint.as_deref(),
        Some("list the accounts under `workloads`, or select them from AWS Organizations with an `organization` block")
    );
    // A misspelt `organization` is reported as such, not again as a missing `workloads`.
    let (line, col, field, message, hint) =
        one_error(&format!("{HEAD}organisation:\n  workloads: [{{ ou: r-ab12 }}]\n"));
    assert_eq!((line, col, field.as_str(), message.as_str()), (3, 1, "organisation", "unknown key `organisation`"));
    assert!(hint.unwrap().starts_with("did you mean `organization`?"));
}

#[test]
fn an_ou_of_the_wrong_shape() {
    let after_ou = "after `ou-`, expected 4–32 lowercase letters or digits, `-`, then 8–32 lowercase letters or digits";
    let cases = [
        ("ou-AB12-11111111", after_ou.to_string()),
        ("ou-ab12-1111", after_ou.to_string()),
        ("r-ab", "after `r-`, expected 4–32 lowercase letters or digits".to_string()),
        (
            "o-abcdefghij",
            "that is an organization ID; select the whole organization by its root ID (`r-…`)".to_string(),
        ),
        ("\"444444444444\"", "that is an account ID; list single accounts under `workloads`".to_string()),
        ("prod", "must start with `ou-` (an OU) or `r-` (a root)".to_string()),
    ];
    for (ou, why) in cases {
        let (line, col, field, message, hint) = one_error(&with_selector(&format!("ou: {ou}")));
        assert_eq!((line, col, field.as_str()), (5, 11, "organization.workloads[0].ou"), "{ou}");
        let shown = ou.trim_matches('"');
        assert_eq!(
            message,
            format!("expected an OU ID (`ou-ab12-11111111`) or a root ID (`r-ab12`), found `{shown}`: {why}"),
        );
        assert_eq!(hint, None);
    }
    let (line, col, field, message, hint) = one_error(&with_selector("ou: [ou-ab12-11111111, ou-ab12-22222222]"));
    assert_eq!((line, col, field.as_str()), (5, 11, "organization.workloads[0].ou"));
    assert_eq!(message, "expected an OU ID (`ou-ab12-11111111`) or a root ID (`r-ab12`), found a list");
    assert_eq!(hint.as_deref(), Some("one OU per selector: write a selector for each"));
}

#[test]
fn a_selector_without_ou() {
    // At the selector (a block mapping is placed at its first key's `:`, as everywhere).
    let (line, col, field, message, hint) = one_error(&with_selector("tags: { capa: enabled }"));
    assert_eq!((line, col, field.as_str()), (5, 11, "organization.workloads[0].ou"));
    assert_eq!(
        message,
        "missing required key `ou` (a selector needs `ou`: an OU ID (`ou-ab12-11111111`) or a root ID (`r-ab12`), whose accounts it selects)"
    );
    assert_eq!(
        hint.as_deref(),
        Some("single accounts are listed under the top-level `workloads`, each with its `name` and `account`")
    );
    // A selector written as a listed workload: each workload key says where it belongs, and `ou`
    // is still missing.
    let e = errors(&with_selector("{ name: dev, account: \"222222222222\" }"));
    let got: Vec<(usize, usize, &str, &str)> =
        e.iter().map(|d| (d.line, d.column, d.field.as_str(), d.message.as_str())).collect();
    assert_eq!(
        got,
        [
            (
                5,
                7,
                "organization.workloads[0].ou",
                "missing required key `ou` (a selector needs `ou`: an OU ID (`ou-ab12-11111111`) or a root ID (`r-ab12`), whose accounts it selects)"
            ),
            (5, 9, "organization.workloads[0].name", "unknown key `name`: a selector selects the accounts below its `ou`"),
            (
                5,
                20,
                "organization.workloads[0].account",
                "unknown key `account`: a selector selects the accounts below its `ou`"
            ),
        ]
    );
    assert_eq!(
        e[1].hint.as_deref(),
        Some("list a single account under the top-level `workloads`, with its `name`, `account` and `manifests`")
    );
}

#[test]
fn an_except_entry_that_is_not_an_account_id() {
    let e = errors(&with_selector("ou: r-ab12\n      except: [\"44444444444\", dev, \"444444444444\", 444444444444]"));
    let got: Vec<(usize, usize, &str, &str)> =
        e.iter().map(|d| (d.line, d.column, d.field.as_str(), d.message.as_str())).collect();
    assert_eq!(
        got,
        [
            (
                6,
                16,
                "organization.workloads[0].except[0]",
                "expected a 12-digit AWS account ID, found `44444444444`: 11 digits"
            ),
            (
                6,
                31,
                "organization.workloads[0].except[1]",
                "expected a 12-digit AWS account ID, found `dev`: not all digits"
            ),
            (
                6,
                52,
                "organization.workloads[0].except[3]",
                "duplicate account `444444444444` (also organization.workloads[0].except[2])"
            ),
        ]
    );
    let (line, col, field, message, hint) = one_error(&with_selector("ou: r-ab12\n      except: \"444444444444\""));
    assert_eq!((line, col, field.as_str()), (6, 15, "organization.workloads[0].except"));
    assert_eq!(message, "expected a list of 12-digit AWS account IDs, found string \"444444444444\"");
    assert_eq!(hint.as_deref(), Some("for example `except: [\"444444444444\"]`"));
}

#[test]
fn tags_that_are_not_a_string_map() {
    let (line, col, field, message, hint) = one_error(&with_selector("ou: r-ab12\n      tags: [capa, enabled]"));
    assert_eq!((line, col, field.as_str()), (6, 13, "organization.workloads[0].tags"));
    assert_eq!(message, "expected a mapping of tag keys to values, found a list");
    assert_eq!(hint.as_deref(), Some("for example `tags: { capa: enabled }`"));

    let e = errors(&with_selector(
        "ou: r-ab12\n      tags: { capa: true, tier: 3, ratio: 1.5, empty: ~, nested: { a: b }, 42: x }",
    ));
    let got: Vec<(usize, usize, &str, &str, Option<&str>)> =
        e.iter().map(|d| (d.line, d.column, d.field.as_str(), d.message.as_str(), d.hint.as_deref())).collect();
    assert_eq!(
        got,
        [
            (
                6,
                21,
                "organization.workloads[0].tags.capa",
                "expected a tag value (a string), found `true`, which YAML reads as a boolean",
                Some("quote it: `\"true\"`")
            ),
            (
                6,
                33,
                "organization.workloads[0].tags.tier",
                "expected a tag value (a string), found `3`, which YAML reads as a number",
                Some("quote it: `\"3\"`")
            ),
            (
                6,
                43,
                "organization.workloads[0].tags.ratio",
                "expected a tag value (a string), found `1.5`, which YAML reads as a number",
                Some("quote it: `\"1.5\"`")
            ),
            (
                6,
                55,
                "organization.workloads[0].tags.empty",
                "expected a tag value (a string), found null",
                Some("write `\"\"` for an empty value")
            ),
            (6, 66, "organization.workloads[0].tags.nested", "expected a tag value (a string), found a mapping", None),
            (
                6,
                76,
                "organization.workloads[0].tags",
                "expected a tag key (a string), found `42`, which YAML reads as a number",
                Some("quote it: `\"42\"`")
            ),
        ]
    );
    // Quoted, each is the string it looks like; an empty value is a value.
    let s = spec(&with_selector("ou: r-ab12\n      tags: { capa: \"true\", tier: '3', empty: \"\", \"42\": x }"));
    let tags = &s.organization.unwrap().selectors[0].tags;
    let want: BTreeMap<String, String> =
        [("capa", "true"), ("tier", "3"), ("empty", ""), ("42", "x")].map(|(k, v)| (k.into(), v.into())).into();
    assert_eq!(*tags, want);
}

#[test]
fn tag_keys_are_unique_and_of_organizations_length() {
    let e = errors(&with_selector(&format!("ou: r-ab12\n      tags: {{ capa: a, capa: b, {}: c }}", "k".repeat(129))));
    let got: Vec<(usize, usize, &str, &str)> =
        e.iter().map(|d| (d.line, d.column, d.field.as_str(), d.message.as_str())).collect();
    assert_eq!(
        got,
        [
            (6, 24, "organization.workloads[0].tags.capa", "duplicate tag key `capa` (first at line 6)"),
            (
                6,
                33,
                "organization.workloads[0].tags",
                &format!("expected a tag key, found `{}`: 129 characters, expected 1–128", "k".repeat(129)),
            ),
        ]
    );
}

#[test]
fn an_identity_name_in_a_selector_is_refused_with_why() {
    let (line, col, field, message, hint) =
        one_error(&with_selector("ou: r-ab12\n      identity: { name: tenant, allowed_namespaces: all }"));
    assert_eq!((line, col, field.as_str()), (6, 19, "organization.workloads[0].identity.name"));
    assert_eq!(
        message,
        "`name` is not allowed in a selector's identity: each selected account's identity is named after its workload"
    );
    assert_eq!(
        hint.as_deref(),
        Some("a discovered account's workload name is derived from its account name (docs/organizations.md); to name an identity, list the account under `workloads`")
    );
}

#[test]
fn a_selectors_workload_settings_follow_a_workloads_rules() {
    let e = errors(&with_selector(
        "ou: r-ab12\n      role: { name: \"bad role\" }\n      access: { profile: a, assume_role: { role_name: b } }\n      external_id: x\n      identity: { allowed_namespaces: [], duration_seconds: 60, session_name: \"a b\" }",
    ));
    let got: Vec<(usize, &str)> = e.iter().map(|d| (d.line, d.field.as_str())).collect();
    assert_eq!(
        got,
        [
            (6, "organization.workloads[0].role.name"),
            (7, "organization.workloads[0].access"),
            (8, "organization.workloads[0].external_id"),
            (9, "organization.workloads[0].identity.allowed_namespaces"),
            (9, "organization.workloads[0].identity.duration_seconds"),
            (9, "organization.workloads[0].identity.session_name"),
        ]
    );
    // And their warnings.
    let l = parse_str(
        &dir().join("xacct.yaml"),
        &with_selector("ou: r-ab12\n      identity: { allowed_namespaces: none, duration_seconds: 7200 }"),
    )
    .unwrap();
    let fields: Vec<&str> = l.warnings.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "organization.workloads[0].identity.allowed_namespaces",
            "organization.workloads[0].identity.duration_seconds"
        ]
    );
}

#[test]
fn identities_dir_is_relative_to_the_file_and_not_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("ids.yaml"), "").unwrap();
    let file = tmp.path().join("xacct.yaml");
    // Need not exist yet: apply creates it.
    let ok = parse_str(&file, &with_selector("ou: r-ab12\n      identities_dir: identities")).unwrap().spec;
    assert_eq!(
        ok.organization.unwrap().selectors[0].identities_dir,
        Some(ManifestRef { written: "identities".into(), path: tmp.path().join("identities") })
    );
    let e = parse_str(&file, &with_selector("ou: r-ab12\n      identities_dir: ids.yaml")).unwrap_err().0;
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!((e[0].line, e[0].column, e[0].field.as_str()), (6, 23, "organization.workloads[0].identities_dir"));
    assert_eq!(e[0].message, format!("`ids.yaml` is not a directory ({})", tmp.path().join("ids.yaml").display()));
    assert_eq!(
        e[0].hint.as_deref(),
        Some("xacct writes one AWSClusterRoleIdentity file per selected account into this directory")
    );
}

#[test]
fn misspelt_keys_get_a_did_you_mean() {
    let e = errors(&format!(
        "{HEAD}organization:\n  acess: {{ profile: org }}\n  workloads:\n    - ou: r-ab12\n      tag: {{ capa: enabled }}\n      excep: [\"444444444444\"]\n      identites_dir: ids\n"
    ));
    let got: Vec<(usize, usize, &str, &str)> = e
        .iter()
        .map(|d| (d.line, d.column, d.field.as_str(), d.hint.as_deref().unwrap().split('?').next().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (4, 3, "organization.acess", "did you mean `access`"),
            (7, 7, "organization.workloads[0].tag", "did you mean `tags`"),
            (8, 7, "organization.workloads[0].excep", "did you mean `except`"),
            (9, 7, "organization.workloads[0].identites_dir", "did you mean `identities_dir`"),
        ]
    );
    assert_eq!(
        e[1].hint.as_deref(),
        Some("did you mean `tags`? valid keys here: `ou`, `tags`, `except`, `role`, `access`, `external_id`, `identity`, `identities_dir`, `bootstrap`")
    );
    assert!(e.iter().all(|d| d.message.starts_with("unknown key `")), "{e:#?}");
    // A misspelt `ou` is not reported again as missing; a misspelt `workloads` neither.
    let (line, col, field, message, _) = one_error(&with_selector("uo: r-ab12"));
    assert_eq!(
        (line, col, field.as_str(), message.as_str()),
        (5, 7, "organization.workloads[0].uo", "unknown key `uo`")
    );
    let (line, col, field, _, hint) = one_error(&format!("{HEAD}organization:\n  workload: [{{ ou: r-ab12 }}]\n"));
    assert_eq!((line, col, field.as_str()), (4, 3, "organization.workload"));
    assert!(hint.unwrap().starts_with("did you mean `workloads`?"));
}

#[test]
fn the_selector_list_is_required_and_not_empty() {
    let (line, col, field, message, hint) = one_error(&format!("{HEAD}organization:\n  access: default\n"));
    assert_eq!((line, col, field.as_str()), (4, 9, "organization.workloads"));
    assert_eq!(message, "missing required key `workloads` (the selectors: which accounts to select)");
    assert_eq!(hint.as_deref(), Some("for example `workloads: [{ ou: ou-ab12-11111111 }]`"));
    let (line, col, field, message, hint) = one_error(&format!("{HEAD}organization:\n  workloads: []\n"));
    assert_eq!(
        (line, col, field.as_str(), message.as_str()),
        (4, 14, "organization.workloads", "an empty list selects no account")
    );
    assert_eq!(hint.as_deref(), Some("add a selector (`- ou: ou-…`), or remove the `organization` block"));
    let (line, col, field, message, _) = one_error(&format!("{HEAD}organization:\n  workloads: {{ ou: r-ab12 }}\n"));
    assert_eq!((line, col, field.as_str()), (4, 14, "organization.workloads"));
    assert_eq!(message, "expected a list of selectors, found a mapping");
    let (line, col, field, message, _) = one_error(&format!("{HEAD}organization: [r-ab12]\n"));
    assert_eq!((line, col, field.as_str()), (3, 15, "organization"));
    assert_eq!(message, "expected a mapping with keys `access`, `workloads`, found a list");
}

#[test]
fn the_reader_access_takes_the_forms_access_takes_elsewhere() {
    let (_, _, field, message, _) =
        one_error(&format!("{HEAD}organization:\n  access: {{ assume_role: {{ role_arn: \"arn:aws:iam::1:role/r\" }} }}\n  workloads: [{{ ou: r-ab12 }}]\n"));
    assert_eq!(field, "organization.access.assume_role.role_arn");
    assert_eq!(
        message,
        "expected a role ARN (`arn:aws:iam::<account>:role/<name>`), found `arn:aws:iam::1:role/r`: account: 1 digits"
    );
    let s =
        spec(&format!("{HEAD}organization:\n  access: {{ profile: org-reader }}\n  workloads: [{{ ou: r-ab12 }}]\n"));
    assert_eq!(s.organization.unwrap().access, Access::Profile("org-reader".into()));
}

#[test]
fn every_problem_at_once() {
    let text = format!(
        "{HEAD}organization:\n  workloads:\n    - ou: ou-ab12\n      except: [dev]\n    - tags: {{ capa: yes, on: true }}\n    - ou: r-ab12\n      identity: {{ name: x }}\n"
    );
    let e = errors(&text);
    let got: Vec<(usize, &str)> = e.iter().map(|d| (d.line, d.field.as_str())).collect();
    assert_eq!(
        got,
        [
            (5, "organization.workloads[0].ou"),
            (6, "organization.workloads[0].except[0]"),
            (7, "organization.workloads[1].ou"),
            (7, "organization.workloads[1].tags.on"),
            (9, "organization.workloads[2].identity.name"),
        ]
    );
}

#[test]
fn grant_organization_takes_the_blocks_organization() {
    let s = spec(
        "version: 1\nmanagement:\n  account: \"111111111111\"\n  assume_policy: { grant: organization }\norganization:\n  workloads: [{ ou: r-ab12 }]\n"
    );
    assert_eq!(s.management.grant, Grant::FromOrganization);
    // The ID form stays beside the block.
    let s = spec(
        "version: 1\nmanagement:\n  account: \"111111111111\"\n  assume_policy: { grant: { organization: o-abcdefghij } }\norganization:\n  workloads: [{ ou: r-ab12 }]\n"
    );
    assert_eq!(s.management.grant, Grant::Organization { org_id: "o-abcdefghij".into() });

    let (line, col, field, message, hint) = one_error(
        "version: 1\nmanagement:\n  account: \"111111111111\"\n  assume_policy: { grant: organization }\nworkloads: []\n",
    );
    assert_eq!((line, col, field.as_str()), (4, 27, "management.assume_policy.grant"));
    assert_eq!(
        message,
        "`grant: organization` grants by the organization of the file's `organization` block, and this file has none"
    );
    assert_eq!(
        hint.as_deref(),
        Some("write `grant: { organization: o-… }` with the organization's ID, or add an `organization` block")
    );
    // A misspelling of it is pointed at it.
    let (_, _, _, message, hint) = one_error(
        "version: 1\nmanagement:\n  account: \"111111111111\"\n  assume_policy: { grant: organisation }\nworkloads: []\n",
    );
    assert_eq!(
        message,
        "expected `role_arns`, `organization`, `{organization: o-…}` or `{org_paths: [o-…/r-…/]}`, found `organisation`"
    );
    assert_eq!(hint.as_deref(), Some("did you mean `organization`?"));
}

#[test]
fn json_files_may_select_too() {
    let text = r#"{"version": 1, "management": {"account": "111111111111"}, "organization": {"workloads": [{"ou": "ou-ab12-11111111", "tags": {"capa": "enabled"}, "except": ["444444444444"]}]}}"#;
    let s = parse_str(&dir().join("x.json"), text).unwrap().spec;
    let sel = &s.organization.unwrap().selectors[0];
    assert_eq!(sel.tags["capa"], "enabled");
    let text = r#"{"version": 1, "management": {"account": "111111111111"}, "organization": {"workloads": [{"ou": "r-ab12", "tags": {"capa": true}}]}}"#;
    let e = parse_str(&dir().join("x.json"), text).unwrap_err().0;
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].field, "organization.workloads[0].tags.capa");
    assert_eq!(e[0].hint.as_deref(), Some("quote it: `\"true\"`"));
}
