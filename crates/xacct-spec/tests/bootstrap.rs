//! `bootstrap`: the top-level block every account inherits, an account's own block replacing it,
//! `bootstrap: false`, organization selectors; `role_given`; every bad input with its exact
//! message and place.

use std::path::{Path, PathBuf};

use xacct_spec::yaml::Pos;
use xacct_spec::{
    parse_str, BootstrapProfile, BootstrapSource, BootstrapSpec, Diagnostic, ManifestRef, Severity, Spec,
};

/// The fixture directory: `capa-iam.yaml`, `capa-iam-mgmt.yaml` and the directory `iam/`.
fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bootstrap")
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

fn config(written: &str, adopt: bool, line: usize, col: usize) -> Option<BootstrapSpec> {
    Some(BootstrapSpec {
        source: BootstrapSource::Config(ManifestRef { written: written.into(), path: dir().join(written) }),
        adopt,
        pos: Pos { line, col },
    })
}

fn profile(p: BootstrapProfile, adopt: bool, line: usize, col: usize) -> Option<BootstrapSpec> {
    Some(BootstrapSpec { source: BootstrapSource::Profile(p), adopt, pos: Pos { line, col } })
}

const HEAD: &str = "version: 1\nmanagement: { account: \"111111111111\" }\n";

/// A file whose only workload has `bootstrap: VALUE` (at line 4, the value at column 54).
fn workload_bootstrap(value: &str) -> String {
    format!("{HEAD}workloads:\n  - {{ name: dev, account: \"222222222222\", bootstrap: {value} }}\n")
}

#[test]
fn every_account_inherits_the_top_level_block_unless_it_says_otherwise() {
    let text = "version: 1
bootstrap:
  config: capa-iam.yaml
  adopt: true
management: { account: \"111111111111\", bootstrap: { config: capa-iam-mgmt.yaml } }
workloads:
  - { name: dev, account: \"222222222222\" }
  - { name: legacy, account: \"333333333333\", bootstrap: false }
  - name: edge
    account: \"444444444444\"
    bootstrap:
      profile: dkp
organization:
  workloads:
    - ou: ou-ab12-11111111
    - ou: ou-ab12-22222222
      bootstrap: false
    - ou: r-ab12
      bootstrap: { profile: capa, adopt: true }
";
    let s = spec(text);
    // A block mapping's position is where YAML starts it, after its first key.
    let top = config("capa-iam.yaml", true, 3, 9);
    // Its own block replaces the top-level one entirely: `adopt` is not inherited either.
    assert_eq!(s.management.bootstrap, config("capa-iam-mgmt.yaml", false, 5, 51));
    let got: Vec<(&str, Option<BootstrapSpec>)> =
        s.workloads.iter().map(|w| (w.name.as_str(), w.bootstrap.clone())).collect();
    assert_eq!(got, [("dev", top.clone()), ("legacy", None), ("edge", profile(BootstrapProfile::Dkp, false, 12, 14)),]);
    let org = s.organization.unwrap();
    let got: Vec<Option<BootstrapSpec>> = org.selectors.iter().map(|s| s.bootstrap.clone()).collect();
    assert_eq!(got, [top, None, profile(BootstrapProfile::Capa, true, 19, 18)]);
}

#[test]
fn without_a_top_level_block_nothing_is_bootstrapped_unless_an_account_says_so() {
    let text = format!(
        "{HEAD}workloads:
  - {{ name: dev, account: \"222222222222\" }}
  - {{ name: prod, account: \"333333333333\", bootstrap: {{ config: iam/../capa-iam.yaml }} }}
  - {{ name: legacy, account: \"444444444444\", bootstrap: false }}
organization:
  workloads: [{{ ou: r-ab12 }}]
"
    );
    let s = spec(&text);
    assert_eq!(s.management.bootstrap, None);
    let got: Vec<Option<BootstrapSpec>> = s.workloads.iter().map(|w| w.bootstrap.clone()).collect();
    // The path as written, resolved against the file's directory.
    assert_eq!(got, [None, config("iam/../capa-iam.yaml", false, 5, 55), None]);
    assert_eq!(s.organization.unwrap().selectors[0].bootstrap, None);
}

#[test]
fn top_level_false_is_the_same_as_no_block() {
    let s = spec(
        "version: 1\nbootstrap: false\nmanagement: { account: \"111111111111\" }\nworkloads:\n  - { name: dev, account: \"222222222222\" }\n  - { name: edge, account: \"333333333333\", bootstrap: { profile: dkp, adopt: false } }\n"
    );
    assert_eq!(s.management.bootstrap, None);
    assert_eq!(s.workloads[0].bootstrap, None);
    assert_eq!(s.workloads[1].bootstrap, profile(BootstrapProfile::Dkp, false, 6, 55));
    // YAML's other spellings of the booleans; `adopt` takes them too.
    let s = spec(
        "version: 1\nbootstrap: { profile: capa, adopt: True }\nmanagement: { account: \"111111111111\", bootstrap: FALSE }\nworkloads: []\n"
    );
    assert_eq!(s.management.bootstrap, None);
    let s = spec("version: 1\nbootstrap: { profile: capa, adopt: TRUE }\nmanagement: { account: \"111111111111\" }\nworkloads: []\n");
    assert_eq!(s.management.bootstrap, profile(BootstrapProfile::Capa, true, 2, 12));
}

#[test]
fn a_json_file_bootstraps_too() {
    let text = r#"{
  "version": 1,
  "bootstrap": { "profile": "dkp", "adopt": true },
  "management": { "account": "111111111111", "bootstrap": false },
  "workloads": [ { "name": "dev", "account": "222222222222", "bootstrap": { "config": "capa-iam.yaml" } } ]
}"#;
    let s = parse_str(&dir().join("xacct.json"), text).unwrap().spec;
    assert_eq!(s.management.bootstrap, None);
    assert_eq!(s.workloads[0].bootstrap, config("capa-iam.yaml", false, 5, 75));
}

#[test]
fn role_given_says_whether_the_file_names_the_role() {
    // No role anywhere: the built-in default, not given.
    let text = format!(
        "{HEAD}workloads:\n  - {{ name: dev, account: \"222222222222\" }}\n  - {{ name: ops, account: \"333333333333\", role: control-plane.cluster-api-provider-aws.sigs.k8s.io }}\n  - {{ name: web, account: \"444444444444\", role: {{ name: capa, path: /ops/ }} }}\norganization:\n  workloads: [{{ ou: r-ab12 }}, {{ ou: ou-ab12-11111111, role: capa }}]\n"
    );
    let s = spec(&text);
    assert!(!s.management.role_given);
    // Writing the default name is naming it.
    let got: Vec<(&str, bool)> = s.workloads.iter().map(|w| (w.name.as_str(), w.role_given)).collect();
    assert_eq!(got, [("dev", false), ("ops", true), ("web", true)]);
    let got: Vec<bool> = s.organization.unwrap().selectors.iter().map(|s| s.role_given).collect();
    assert_eq!(got, [false, true]);

    // `defaults.role` names it for every account, the management one included (it applies there).
    let s = spec(
        "version: 1\ndefaults: { role: capa }\nmanagement: { account: \"111111111111\" }\nworkloads:\n  - { name: dev, account: \"222222222222\" }\norganization:\n  workloads: [{ ou: r-ab12 }]\n"
    );
    assert!(s.management.role_given);
    assert_eq!(s.management.role.name, "capa");
    assert!(s.workloads[0].role_given);
    assert!(s.organization.unwrap().selectors[0].role_given);

    // The management account's own `role`.
    let s = spec("version: 1\nmanagement: { account: \"111111111111\", role: capa-mgmt }\nworkloads:\n  - { name: dev, account: \"222222222222\" }\n");
    assert!(s.management.role_given);
    assert!(!s.workloads[0].role_given);
}

#[test]
fn both_config_and_profile() {
    let (line, col, field, message, hint) = one_error(&workload_bootstrap("{ config: capa-iam.yaml, profile: dkp }"));
    assert_eq!((line, col, field.as_str()), (4, 88, "workloads[0].bootstrap"));
    assert_eq!(message, "expected either `config` or `profile`, found both");
    assert_eq!(
        hint.as_deref(),
        Some("`config` names an AWSIAMConfiguration file, which says itself which IAM to make; keep one")
    );
    // At whichever comes second.
    let (line, col, field, _, _) =
        one_error("version: 1\nbootstrap:\n  profile: capa\n  config: capa-iam.yaml\nmanagement: { account: \"111111111111\" }\nworkloads: []\n");
    assert_eq!((line, col, field.as_str()), (4, 11, "bootstrap"));
}

#[test]
fn neither_config_nor_profile() {
    let (line, col, field, message, hint) = one_error(&workload_bootstrap("{ adopt: true }"));
    assert_eq!((line, col, field.as_str()), (4, 54, "workloads[0].bootstrap"));
    assert_eq!(message, "missing `config` or `profile` (which IAM to make)");
    assert_eq!(
        hint.as_deref(),
        Some("`config: FILE` names clusterawsadm's AWSIAMConfiguration file; `profile: capa` is clusterawsadm's default set, `profile: dkp` DKP's prerequisites")
    );
    let (line, col, field, message, _) =
        one_error("version: 1\nbootstrap: {}\nmanagement: { account: \"111111111111\" }\nworkloads: []\n");
    assert_eq!((line, col, field.as_str()), (2, 12, "bootstrap"));
    assert_eq!(message, "missing `config` or `profile` (which IAM to make)");
}

#[test]
fn an_unknown_profile() {
    for (written, hint) in [
        ("capaa", "did you mean `capa`?"),
        ("DKP", "did you mean `dkp`?"),
        ("default", "`capa` is clusterawsadm's default set, `dkp` DKP's prerequisites; for another set, name an AWSIAMConfiguration file with `config`"),
        ("clusterawsadm", "`capa` is clusterawsadm's default set, `dkp` DKP's prerequisites; for another set, name an AWSIAMConfiguration file with `config`"),
    ] {
        let text = format!(
            "version: 1\nmanagement:\n  account: \"111111111111\"\n  bootstrap: {{ profile: {written} }}\nworkloads: []\n"
        );
        let (line, col, field, message, got) = one_error(&text);
        assert_eq!((line, col, field.as_str()), (4, 25, "management.bootstrap.profile"), "{written}");
        assert_eq!(message, format!("expected `capa` or `dkp`, found `{written}`"));
        assert_eq!(got.as_deref(), Some(hint), "{written}");
    }
    let (line, col, field, message, hint) = one_error(&workload_bootstrap("{ profile: [capa] }"));
    assert_eq!((line, col, field.as_str()), (4, 65, "workloads[0].bootstrap.profile"));
    assert_eq!((message.as_str(), hint), ("expected `capa` or `dkp`, found a list", None));
}

#[test]
fn a_config_that_is_not_a_file_beside_this_one() {
    let (line, col, field, message, hint) = one_error(&workload_bootstrap("{ config: capa-iam.yml }"));
    assert_eq!((line, col, field.as_str()), (4, 64, "workloads[0].bootstrap.config"));
    assert_eq!(
        message,
        format!("bootstrap config `capa-iam.yml` does not exist (looked for {})", dir().join("capa-iam.yml").display())
    );
    assert_eq!(hint.as_deref(), Some("paths are relative to the desired-state file"));
    let (line, col, field, message, hint) =
        one_error("version: 1\nbootstrap:\n  config: iam\nmanagement: { account: \"111111111111\" }\nworkloads: []\n");
    assert_eq!((line, col, field.as_str()), (3, 11, "bootstrap.config"));
    assert_eq!(message, format!("bootstrap config `iam` is a directory ({})", dir().join("iam").display()));
    assert_eq!(hint.as_deref(), Some("name clusterawsadm's AWSIAMConfiguration file"));
    let (line, col, field, message, _) = one_error(&workload_bootstrap("{ config: }"));
    assert_eq!((line, col, field.as_str()), (4, 62, "workloads[0].bootstrap.config"));
    assert_eq!(message, "expected an AWSIAMConfiguration file path relative to this file, found null");
}

#[test]
fn misspelt_keys_get_a_did_you_mean() {
    let text = "version: 1
bootstrap:
  config: capa-iam.yaml
  adpot: true
management: { account: \"111111111111\", bootsrap: false }
workloads:
  - { name: dev, account: \"222222222222\", bootstrap: { profil: capa } }
organization:
  workloads:
    - ou: r-ab12
      bootstap: { profile: capa }
";
    let e = errors(text);
    let got: Vec<(usize, usize, &str, &str, &str)> = e
        .iter()
        .map(|d| (d.line, d.column, d.field.as_str(), d.message.as_str(), d.hint.as_deref().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (4, 3, "bootstrap.adpot", "unknown key `adpot`", "did you mean `adopt`? valid keys here: `config`, `profile`, `adopt`"),
            (5, 40, "management.bootsrap", "unknown key `bootsrap`", "did you mean `bootstrap`? valid keys here: `account`, `role`, `access`, `assume_policy`, `trust_principal`, `bootstrap`"),
            // A misspelt `profile` is not reported again as a missing `config` or `profile`.
            (7, 56, "workloads[0].bootstrap.profil", "unknown key `profil`", "did you mean `profile`? valid keys here: `config`, `profile`, `adopt`"),
            (11, 7, "organization.workloads[0].bootstap", "unknown key `bootstap`", "did you mean `bootstrap`? valid keys here: `ou`, `tags`, `except`, `role`, `access`, `external_id`, `identity`, `identities_dir`, `bootstrap`"),
        ]
    );
}

#[test]
fn bootstrap_true_says_to_write_a_block_or_inherit() {
    let (line, col, field, message, hint) = one_error(&workload_bootstrap("true"));
    assert_eq!((line, col, field.as_str()), (4, 54, "workloads[0].bootstrap"));
    assert_eq!(message, "`bootstrap: true` does not say which IAM to make");
    assert_eq!(
        hint.as_deref(),
        Some("write a block (`bootstrap: { profile: capa }`, `{ profile: dkp }` or `{ config: FILE }`), or leave `bootstrap` out to inherit the top-level one")
    );
    // At the top level there is nothing to inherit.
    let (line, col, field, message, hint) =
        one_error("version: 1\nbootstrap: true\nmanagement: { account: \"111111111111\" }\nworkloads: []\n");
    assert_eq!((line, col, field.as_str()), (2, 12, "bootstrap"));
    assert_eq!(message, "`bootstrap: true` does not say which IAM to make");
    assert_eq!(
        hint.as_deref(),
        Some("write a block: `bootstrap: { profile: capa }` (clusterawsadm's default set), `{ profile: dkp }` or `{ config: FILE }`")
    );
}

#[test]
fn other_values_of_the_wrong_type() {
    let expected = "expected `false` or a mapping with `config` or `profile`";
    for (value, found) in [
        ("[capa]", "a list".to_string()),
        ("capa", "`capa`".to_string()),
        ("\"false\"", "string \"false\"".to_string()),
        ("null", "null".to_string()),
    ] {
        let (line, col, field, message, hint) = one_error(&workload_bootstrap(value));
        assert_eq!((line, col, field.as_str()), (4, 54, "workloads[0].bootstrap"), "{value}");
        assert_eq!(message, format!("{expected}, found {found}"));
        assert_eq!(hint.as_deref(), Some("for example `bootstrap: { profile: capa }`"));
    }
    for (value, found) in [("yes", "`yes`"), ("\"true\"", "string \"true\""), ("1", "`1`")] {
        let (line, col, field, message, hint) =
            one_error(&workload_bootstrap(&format!("{{ profile: capa, adopt: {value} }}")));
        assert_eq!((line, col, field.as_str()), (4, 78, "workloads[0].bootstrap.adopt"), "{value}");
        assert_eq!((message, hint), (format!("expected `true` or `false`, found {found}"), None));
    }
}

#[test]
fn bootstrap_is_not_a_default() {
    let (line, col, field, message, hint) = one_error(
        "version: 1\ndefaults:\n  bootstrap: { profile: capa }\nmanagement: { account: \"111111111111\" }\nworkloads: []\n"
    );
    assert_eq!((line, col, field.as_str()), (3, 3, "defaults.bootstrap"));
    assert_eq!(message, "`bootstrap` is not a default: it is a top-level key, which every account inherits");
    assert_eq!(
        hint.as_deref(),
        Some("move it to the top level of the file; an account overrides it with its own `bootstrap`")
    );
}

#[test]
fn a_bad_top_level_block_is_reported_once_not_at_every_account() {
    let text = "version: 1
bootstrap: { profile: kdp }
management: { account: \"111111111111\" }
workloads:
  - { name: dev, account: \"222222222222\" }
  - { name: prod, account: \"333333333333\" }
organization:
  workloads: [{ ou: r-ab12 }]
";
    let (line, col, field, message, hint) = one_error(text);
    assert_eq!((line, col, field.as_str()), (2, 23, "bootstrap.profile"));
    assert_eq!(message, "expected `capa` or `dkp`, found `kdp`");
    assert_eq!(hint.as_deref(), Some("did you mean `dkp`?"));
}

#[test]
fn every_bootstrap_problem_at_once_sorted_by_line() {
    let text = "version: 1
bootstrap: { config: missing.yaml, adopt: maybe }
management: { account: \"111111111111\", bootstrap: true }
workloads:
  - { name: dev, account: \"222222222222\", bootstrap: { profile: capa, config: capa-iam.yaml } }
  - { name: prod, account: \"333333333333\", bootstrap: {} }
";
    let e = errors(text);
    let got: Vec<(usize, usize, &str)> = e.iter().map(|d| (d.line, d.column, d.field.as_str())).collect();
    assert_eq!(
        got,
        [
            (2, 22, "bootstrap.config"),
            (2, 43, "bootstrap.adopt"),
            (3, 51, "management.bootstrap"),
            (5, 79, "workloads[0].bootstrap"),
            (6, 55, "workloads[1].bootstrap"),
        ]
    );
}
