//! `profile: dkp` against DKP 2.3's "Configure IAM Policies" template (mesosphere/dcos-docs-site
//! f15c4d9), read from `XACCT_DKP_FIXTURES` (default `../../../shared/reference/dkp`): the same
//! roles, instance profiles, policies, trust and attachments; documents are CAPA's (see
//! `data/dkp/dkp-2.3.json`), so every DKP statement must be allowed by ours, and ours must be
//! exactly clusterawsadm's default documents.

#![allow(clippy::print_stdout)]

mod common;

use common::{differences, dir_from_env, from_cloudformation, from_set};
use serde_json::Value;
use xacct_bootstrap::{check, resource_set, Principal, Profile, RoleKind, Source};

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|s| s.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    }
}

/// Statements of `theirs` (action by action) that no statement of `ours` allows with the same
/// resources and condition.
fn not_covered(ours: &Value, theirs: &Value) -> Vec<String> {
    let mut missing = Vec::new();
    let ours = ours["Statement"].as_array().unwrap();
    for s in theirs["Statement"].as_array().unwrap() {
        let mut resources = strings(&s["Resource"]);
        resources.sort();
        for action in strings(&s["Action"]) {
            let covered = ours.iter().any(|o| {
                let mut r = strings(&o["Resource"]);
                r.sort();
                strings(&o["Action"]).contains(&action) && r == resources && o.get("Condition") == s.get("Condition")
            });
            if !covered {
                missing.push(format!("{action} on {resources:?}"));
            }
        }
    }
    missing
}

#[test]
fn dkp_profile_has_dkp_shape_and_capa_documents() {
    let source = Source::Profile(Profile::Dkp);
    let set = resource_set(&source, "aws");
    assert!(check(&source, &set).is_empty());
    // Own expectations, with or without the reference data.
    let sfx = ".cluster-api-provider-aws.sigs.k8s.io";
    let names: Vec<&str> = set.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, [format!("control-plane{sfx}"), format!("nodes{sfx}")]);
    assert_eq!(set.controller_role, format!("control-plane{sfx}"));
    assert_eq!(set.role_of_kind(RoleKind::ControlPlane).unwrap().name, format!("control-plane{sfx}"));
    let cp = Principal::Role(format!("control-plane{sfx}"));
    assert_eq!(set.managed_policy_count(&format!("control-plane{sfx}")), 3);
    assert_eq!(set.managed_policy_count(&format!("nodes{sfx}")), 1);
    assert!(set.attached_to(&cp).any(|p| p == &xacct_bootstrap::PolicyRef::Managed(format!("controllers{sfx}"))));
    // The documents are clusterawsadm's defaults.
    let capa = resource_set(&Source::Profile(Profile::Capa), "aws");
    for p in &set.policies {
        assert_eq!(Some(&p.document), capa.policy(&p.name).map(|c| &c.document), "{}", p.name);
    }
    assert!(xacct_bootstrap::dkp_decision().contains("CAPA's"));

    let dir = dir_from_env("XACCT_DKP_FIXTURES", "../../../shared/reference/dkp");
    let file = dir.join("iam-2.3.cloudformation.yaml");
    if !file.is_file() {
        println!("{} does not exist: set XACCT_DKP_FIXTURES to compare with DKP's template", file.display());
        return;
    }
    let theirs = from_cloudformation(&std::fs::read_to_string(&file).unwrap());
    let ours = from_set(&set);
    let diffs = differences(&ours, &theirs, false);
    assert!(diffs.is_empty(), "{diffs:#?}");
    let mut report = Vec::new();
    for (name, (_, doc)) in &ours.policies {
        let theirs_doc = &theirs.policies[name].1;
        let missing = not_covered(doc, theirs_doc);
        assert!(missing.is_empty(), "{name}: DKP allows what ours does not: {missing:?}");
        let count =
            |d: &Value| d["Statement"].as_array().unwrap().iter().map(|s| strings(&s["Action"]).len()).sum::<usize>();
        report.push(format!("{name}: DKP {} actions, ours {} (superset)", count(theirs_doc), count(doc)));
        let equal = xacct_policy::equivalent_text(&doc.to_string(), &theirs_doc.to_string()).unwrap();
        assert!(!equal, "{name}: DKP's document is CAPA's now: the decision in data/dkp may be revisited");
    }
    println!(
        "dkp: match: {} roles, {} instance profiles, {} managed policies, {} attachments; {}",
        set.roles.len(),
        set.instance_profiles.len(),
        set.policies.len(),
        set.attachments.len(),
        report.join("; ")
    );
}
