//! `identities_dir`: each account a selector discovers from AWS Organizations gets its
//! `AWSClusterRoleIdentity` in `<identities_dir>/<workload>.yaml`, a file xacct owns whole.
//! Every row of `identity_file`'s table: create (directory included), no-op, an edit or a
//! deletion outside xacct (drift), delete when unchanged, keep with a warning when edited by hand,
//! forget for a suspended account, and the collisions that are plan errors.
//! Organizations is a `MemoryOrganization`, live IAM a `MemoryCloud`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::*;
use serde_json::json;
use xacct_plan::org::memory::MemoryOrganization;
use xacct_plan::org::{discover, merge, AccountState};
use xacct_plan::{Action, Cloud, DriftKind, Level, Plan, PlanOptions, Removals, StoredManifest, Target};
use xacct_spec::{Access, AllowedNamespaces, Identity, ManifestRef, OrgSelector, OrgSpec, RoleRef, Spec};

const ORG: &str = "o-exampleorg1";
const ROOT: &str = "r-ab12";
const OU_A: &str = "ou-ab12-11111111";
const OU_OUT: &str = "ou-ab12-99999999";
const ORG_MGMT: &str = "999999999999";

/// `(ou, account, name, state)` of each member account.
type Member<'a> = (&'a str, &'a str, &'a str, AccountState);

fn organization(members: &[Member<'_>]) -> MemoryOrganization {
    let mut org = MemoryOrganization::new(ORG, ROOT, ORG_MGMT);
    for ou in [OU_A, OU_OUT] {
        org.add_ou(ROOT, ou, ou);
    }
    for (ou, id, name, state) in members {
        org.add_account(ou, id, name, state.clone());
    }
    org
}

/// What xacct writes for workload `name` in `account` with no `allowed_namespaces`: no namespace.
fn identity_file(name: &str, account: &str) -> String {
    format!(
        "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSClusterRoleIdentity\nmetadata:\n  name: {name}\nspec:\n  allowedNamespaces:\n    list: []\n  roleARN: {}\n  sourceIdentityRef:\n    kind: AWSClusterControllerIdentity\n    name: default\n",
        role_arn(account)
    )
}

fn addr(name: &str) -> String {
    manifest_addr(name, &format!("identities/{name}.yaml"))
}

/// A file selecting OU A (with `identities_dir: identities`) and listing `listed`, with a CAPA
/// role in accounts 0..4.
struct T {
    w: World,
    allowed_namespaces: Option<AllowedNamespaces>,
}

impl T {
    fn new(listed: &[String]) -> T {
        let w = World::new(spec_text(listed, ""));
        for i in 0..4 {
            w.cloud.add_role(&account(i), ROLE, EC2_TRUST);
        }
        T { w, allowed_namespaces: None }
    }

    fn spec(&self) -> Spec {
        let mut spec = self.w.spec();
        let selector = OrgSelector {
            ou: OU_A.into(),
            tags: BTreeMap::new(),
            except: BTreeSet::new(),
            role: RoleRef { name: ROLE.into(), path: "/".into() },
            access: Access::DefaultChain,
            external_id: None,
            identity: Identity {
                name: String::new(),
                allowed_namespaces: self.allowed_namespaces.clone(),
                duration_seconds: None,
                session_name: None,
            },
            identities_dir: Some(ManifestRef { written: "identities".into(), path: self.w.path("identities") }),
            bootstrap: None,
            role_given: true,
            pos: Default::default(),
        };
        spec.organization =
            Some(OrgSpec { access: Access::DefaultChain, selectors: vec![selector], pos: spec.management.pos });
        spec
    }

    async fn plan_with(&self, org: &MemoryOrganization, removals: Removals) -> Plan {
        let spec = self.spec();
        let d = discover(org, &merge::selectors(spec.organization.as_ref().unwrap())).await.unwrap();
        let spec = merge::merge(&spec, &d).spec;
        let opts = PlanOptions { organization: Some(d), removals, ..PlanOptions::default() };
        let cloud: Arc<dyn Cloud> = self.w.cloud.clone();
        xacct_plan::plan(&spec, self.w.spec_text.as_bytes(), self.w.state(), cloud, &opts, &()).await
    }

    async fn plan(&self, org: &MemoryOrganization) -> Plan {
        self.plan_with(org, Removals::Guarded).await
    }

    /// Apply as the executor does: an identity file's directory is created with it, and a
    /// removed file xacct owns (by state) is deleted.
    async fn apply(&mut self, p: &Plan) {
        let mut removed = Vec::new();
        for c in &p.changes {
            let Target::Manifest { path } = &c.target else { continue };
            let path = std::path::PathBuf::from(path);
            if c.write.is_some() {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            }
            if c.action() == Action::Delete && self.stored(&c.address.to_string()).is_some_and(|s| s.owned) {
                assert_eq!(std::fs::read(&path).ok().map(|b| xacct_plan::sha256(&b)), c.live_fingerprint);
                removed.push(path);
            }
        }
        self.w.apply(p).await;
        for path in removed {
            std::fs::remove_file(path).unwrap();
        }
    }

    async fn converge(&mut self, org: &MemoryOrganization) -> Plan {
        let p = self.plan(org).await;
        self.apply(&p).await;
        p
    }

    fn stored(&self, address: &str) -> Option<StoredManifest> {
        self.w.state.resources.get(address).map(|r| serde_json::from_value(r.attributes.clone()).unwrap())
    }

    fn file(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.w.path(&format!("identities/{name}.yaml"))).ok()
    }
}

fn active<'a>(id: &'a str, name: &'a str) -> Member<'a> {
    (OU_A, id, name, AccountState::Active)
}

fn manifest_actions(p: &Plan) -> BTreeMap<String, Action> {
    p.changes.iter().filter(|c| c.kind == "manifest").map(|c| (c.address.to_string(), c.action())).collect()
}

fn errors(p: &Plan) -> Vec<(Option<String>, String, Option<String>)> {
    p.errors().map(|d| (d.address.clone(), d.message.clone(), d.hint.clone())).collect()
}

fn warnings(p: &Plan) -> Vec<(Option<String>, String, Option<String>)> {
    p.diagnostics
        .iter()
        .filter(|d| d.severity == Level::Warning)
        .map(|d| (d.address.clone(), d.message.clone(), d.hint.clone()))
        .collect()
}

#[tokio::test]
async fn a_joining_account_gets_its_identity_file_and_the_directory_is_created() {
    let (a, b) = (account(0), account(1));
    let mut t = T::new(&[]);
    let org = organization(&[active(&a, "Tenant A"), active(&b, "Tenant B")]);
    assert!(!t.w.path("identities").exists());

    let p = t.converge(&org).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(
        manifest_actions(&p),
        BTreeMap::from([(addr("tenant-a"), Action::Create), (addr("tenant-b"), Action::Create)])
    );
    let c = change(&p, &addr("tenant-a"));
    assert_eq!(c.after, json!({ "identity": "tenant-a", "role_arn": role_arn(&a) }));
    assert_eq!(c.target, Target::Manifest { path: t.w.path("identities/tenant-a.yaml").display().to_string() });
    assert_eq!((c.live_fingerprint.as_deref(), c.drift), (None, false));
    // After the trust statement and the assume policy, like every manifest.
    assert!(c.depends_on.iter().any(|d| d.to_string() == "trust.tenant-a"), "{:?}", c.depends_on);
    assert_eq!(t.file("tenant-a").as_deref(), Some(identity_file("tenant-a", &a).as_str()));
    assert_eq!(t.file("tenant-b").as_deref(), Some(identity_file("tenant-b", &b).as_str()));
    let s = t.stored(&addr("tenant-a")).unwrap();
    assert!(s.owned && s.record.is_empty());
    assert_eq!((s.path.as_str(), s.identity.as_str()), ("identities/tenant-a.yaml", "tenant-a"));
    assert_eq!(s.applied_sha256, xacct_plan::sha256(identity_file("tenant-a", &a).as_bytes()));
    // The state entry says xacct owns the whole file.
    assert_eq!(t.w.state.resources[&addr("tenant-a")].attributes["owned"], json!(true));

    // Exactly what xacct wrote: nothing to do.
    assert_all_noop(&t.plan(&org).await);
}

#[tokio::test]
async fn the_selectors_identity_setting_gives_the_allowed_namespaces() {
    let a = account(0);
    let mut t = T::new(&[]);
    t.allowed_namespaces = Some(AllowedNamespaces::All);
    let org = organization(&[active(&a, "Tenant A")]);
    t.converge(&org).await;
    assert_eq!(
        t.file("tenant-a").unwrap(),
        identity_file("tenant-a", &a).replace("  allowedNamespaces:\n    list: []\n", "  allowedNamespaces: {}\n")
    );
    // A changed setting updates the file xacct wrote (no drift).
    t.allowed_namespaces = Some(AllowedNamespaces::List(vec!["team-a".into()]));
    let p = t.converge(&org).await;
    let c = change(&p, &addr("tenant-a"));
    assert_eq!((c.action(), c.drift, c.reason.as_deref()), (Action::Update, false, Some("the identity changed")));
    assert!(p.drift.is_empty());
    assert_eq!(
        t.file("tenant-a").unwrap(),
        identity_file("tenant-a", &a).replace("    list: []\n", "    list:\n    - team-a\n")
    );
    assert_all_noop(&t.plan(&org).await);
}

#[tokio::test]
async fn a_file_edited_or_deleted_outside_xacct_is_drift_and_written_back() {
    let a = account(0);
    let mut t = T::new(&[]);
    let org = organization(&[active(&a, "Tenant A")]);
    t.converge(&org).await;
    let want = identity_file("tenant-a", &a);

    let edited = want.replace("list: []", "list: [everyone]");
    t.w.write_file("identities/tenant-a.yaml", &edited);
    let p = t.converge(&org).await;
    let c = change(&p, &addr("tenant-a"));
    assert_eq!((c.action(), c.drift, c.reason.as_deref()), (Action::Update, true, Some("edited outside xacct")));
    assert_eq!(c.live.as_deref(), Some(edited.as_str()));
    assert_eq!(p.drift.len(), 1);
    assert_eq!(
        (p.drift[0].address.to_string(), p.drift[0].kind, p.drift[0].detail.as_str()),
        (addr("tenant-a"), DriftKind::Modified, "`identities/tenant-a.yaml` was edited since xacct wrote it")
    );
    assert_eq!(t.file("tenant-a").as_deref(), Some(want.as_str()));
    assert_all_noop(&t.plan(&org).await);

    std::fs::remove_file(t.w.path("identities/tenant-a.yaml")).unwrap();
    let p = t.converge(&org).await;
    let c = change(&p, &addr("tenant-a"));
    assert_eq!((c.action(), c.drift, c.reason.as_deref()), (Action::Create, true, Some("deleted outside xacct")));
    assert_eq!(
        (p.drift[0].kind, p.drift[0].detail.as_str()),
        (DriftKind::Deleted, "`identities/tenant-a.yaml` was deleted outside xacct")
    );
    assert_eq!(t.file("tenant-a").as_deref(), Some(want.as_str()));
    assert_all_noop(&t.plan(&org).await);
}

#[tokio::test]
async fn an_account_that_leaves_has_its_file_removed_when_unchanged() {
    let (a, b) = (account(0), account(1));
    let mut t = T::new(&[]);
    t.converge(&organization(&[active(&a, "Tenant A"), active(&b, "Tenant B")])).await;

    let moved = organization(&[active(&a, "Tenant A"), (OU_OUT, &b, "Tenant B", AccountState::Active)]);
    let p = t.converge(&moved).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let c = change(&p, &addr("tenant-b"));
    assert_eq!(
        (c.action(), c.reason.as_deref(), c.write.as_deref()),
        (Action::Delete, Some("no longer wanted: removing the file xacct wrote"), None)
    );
    // Removed before its trust statement, like every manifest removal.
    let trust = change(&p, "trust.tenant-b");
    assert_eq!(trust.action(), Action::Delete);
    assert!(trust.depends_on.contains(&c.address), "{:?}", trust.depends_on);
    assert_eq!(t.file("tenant-b"), None);
    assert!(t.stored(&addr("tenant-b")).is_none());
    assert_eq!(t.file("tenant-a").as_deref(), Some(identity_file("tenant-a", &a).as_str()));
    assert_all_noop(&t.plan(&moved).await);
}

#[tokio::test]
async fn destroy_removes_the_files_xacct_wrote() {
    let a = account(0);
    let mut t = T::new(&[]);
    let org = organization(&[active(&a, "Tenant A")]);
    t.converge(&org).await;
    // What `destroy` plans: the file without workloads.
    let mut spec = t.w.spec();
    spec.workloads.clear();
    let cloud: Arc<dyn Cloud> = t.w.cloud.clone();
    let opts = PlanOptions { removals: Removals::Destroy, ..PlanOptions::default() };
    let p = xacct_plan::plan(&spec, t.w.spec_text.as_bytes(), t.w.state(), cloud, &opts, &()).await;
    assert_eq!(manifest_actions(&p), BTreeMap::from([(addr("tenant-a"), Action::Delete)]));
    t.apply(&p).await;
    assert_eq!(t.file("tenant-a"), None);
    assert!(t.w.state.resources.is_empty(), "{:?}", t.w.state.resources.keys());
}

#[tokio::test]
async fn a_file_edited_by_hand_is_kept_with_a_warning_when_its_account_leaves() {
    let (a, b) = (account(0), account(1));
    let mut t = T::new(&[]);
    t.converge(&organization(&[active(&a, "Tenant A"), active(&b, "Tenant B")])).await;
    let mine = format!("# reviewed by the platform team\n{}", identity_file("tenant-b", &b));
    t.w.write_file("identities/tenant-b.yaml", &mine);

    let moved = organization(&[active(&a, "Tenant A"), (OU_OUT, &b, "Tenant B", AccountState::Active)]);
    let p = t.converge(&moved).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let c = change(&p, &addr("tenant-b"));
    assert_eq!(
        (c.action(), c.reason.as_deref(), c.write.as_deref()),
        (Action::Forget, Some("no longer wanted, but changed by hand since xacct wrote it: keeping it"), None)
    );
    assert_eq!(
        warnings(&p),
        [(
            Some(addr("tenant-b")),
            "`identities/tenant-b.yaml` was changed by hand since xacct wrote it: keeping the file, and forgetting it (identity `tenant-b`)".to_string(),
            Some("delete `identities/tenant-b.yaml` yourself once it is no longer needed".to_string()),
        )]
    );
    assert_eq!(t.file("tenant-b").as_deref(), Some(mine.as_str()));
    assert!(t.stored(&addr("tenant-b")).is_none());
    assert_all_noop(&t.plan(&moved).await);
}

#[tokio::test]
async fn a_suspended_accounts_file_is_forgotten_and_left() {
    let (a, b) = (account(0), account(1));
    let mut t = T::new(&[]);
    t.converge(&organization(&[active(&a, "Tenant A"), active(&b, "Tenant B")])).await;

    let org = organization(&[active(&a, "Tenant A"), (OU_A, &b, "Tenant B", AccountState::Suspended)]);
    let p = t.converge(&org).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let c = change(&p, &addr("tenant-b"));
    assert_eq!(
        (c.action(), c.unreachable, c.reason.as_deref()),
        (
            Action::Forget,
            true,
            Some(format!(
                "account {b} is SUSPENDED in AWS Organizations: forgetting `identities/tenant-b.yaml`, the file is left as it is"
            ))
            .as_deref()
        )
    );
    assert_eq!(change(&p, "trust.tenant-b").action(), Action::Forget);
    assert_eq!(t.file("tenant-b").as_deref(), Some(identity_file("tenant-b", &b).as_str()));
    assert!(t.stored(&addr("tenant-b")).is_none());
}

#[tokio::test]
async fn a_file_xacct_did_not_write_is_never_overwritten() {
    let a = account(0);
    let mut t = T::new(&[]);
    let org = organization(&[active(&a, "Tenant A")]);
    let theirs = "# hand-written\nkind: AWSClusterRoleIdentity\n";
    t.w.write_file("identities/tenant-a.yaml", theirs);

    let p = t.plan(&org).await;
    assert!(!p.applyable);
    assert_eq!(
        errors(&p),
        [(
            Some(addr("tenant-a")),
            "`identities/tenant-a.yaml` already exists and xacct did not write it: it would be overwritten".to_string(),
            Some("xacct owns each file it writes in `identities_dir` whole: move `identities/tenant-a.yaml` elsewhere (or delete it), or choose another `identities_dir`".to_string()),
        )]
    );
    assert_eq!(change(&p, &addr("tenant-a")).write, None);
    assert_eq!(t.file("tenant-a").as_deref(), Some(theirs));

    // Exactly the document xacct writes (an apply that stopped before saving state): adopted.
    t.w.write_file("identities/tenant-a.yaml", &identity_file("tenant-a", &a));
    let p = t.converge(&org).await;
    let c = change(&p, &addr("tenant-a"));
    assert_eq!((c.action(), c.write.as_deref()), (Action::Adopt, None));
    assert!(t.stored(&addr("tenant-a")).unwrap().owned);
    assert_all_noop(&t.plan(&org).await);
}

#[tokio::test]
async fn two_addresses_for_one_file_are_a_plan_error() {
    let (a, listed) = (account(0), account(3));
    // A listed workload whose manifest is the file the discovered `tenant-a` would get.
    let t = T::new(&[workload("dev", &listed, &["identities/tenant-a.yaml"])]);
    t.w.write_file("identities/tenant-a.yaml", MANIFEST);
    let org = organization(&[active(&a, "Tenant A")]);

    let p = t.plan(&org).await;
    assert!(!p.applyable);
    assert_eq!(
        errors(&p),
        [(
            Some(addr("tenant-a")),
            "`identities/tenant-a.yaml` is the identity file of `tenant-a` and also the manifest of `manifest.dev[\"identities/tenant-a.yaml\"]`: xacct does not write one file for two addresses".to_string(),
            Some("give the selector another `identities_dir`, or move the listed workload's manifest".to_string()),
        )]
    );
    assert_eq!(change(&p, &addr("tenant-a")).action(), Action::NoOp);
    assert_eq!(t.w.read_file("identities/tenant-a.yaml"), MANIFEST);
}
