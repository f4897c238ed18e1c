//! Helpers for driving the real `xacct` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The statements of a policy document's text (a single statement object counts as one).
pub fn statements(doc: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(doc).unwrap_or_else(|e| panic!("not JSON ({e}): {doc}"));
    match &v["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        o => vec![o.clone()],
    }
}

/// The result of one run of the binary.
#[derive(Debug, Default)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `xacct ARGS` from the repository root.
pub fn xacct(args: &[&str]) -> Run {
    xacct_in(&root(), args, &[])
}

/// Run `xacct ARGS` in `dir` with extra environment variables.
pub fn xacct_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xacct"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1").env_remove("XACCT_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run xacct").into()
}

/// A scenario on the emulator: a temp directory holding `xacct.yaml` and its manifests, and the
/// environment that points the binary at the emulator with test credentials.
pub struct Scenario {
    pub dir: tempfile::TempDir,
    pub mgmt: String,
    pub workloads: Vec<(String, String)>,
    /// `aws` unless made by [`Scenario::in_partition`].
    pub partition: String,
    env: Vec<(String, String)>,
}

pub const CAPA_ROLE: &str = "control-plane.cluster-api-provider-aws.sigs.k8s.io";

impl Scenario {
    /// Fresh accounts with the CAPA role in each (trusting ec2.amazonaws.com, as the prerequisites
    /// leave it), one manifest per workload copied from the two-accounts example.
    pub async fn new(names: &[&str]) -> Scenario {
        Scenario::in_partition("aws", names).await
    }

    /// Like [`Scenario::new`], in `partition`: the roles are made in that partition's store of
    /// the emulator, the file says `partition: <partition>` (unless `aws`), and the binary runs
    /// with that partition's region (`cn-north-1`, `us-gov-west-1`), which is what moto files
    /// requests under.
    pub async fn in_partition(partition: &str, names: &[&str]) -> Scenario {
        let moto = xacct_test_support::moto().in_partition(partition);
        let mgmt = moto.fresh_account();
        moto.create_role(&mgmt, CAPA_ROLE, xacct_test_support::EC2_TRUST).await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("clusters")).unwrap();
        let template = std::fs::read_to_string(root().join("examples/two-accounts/clusters/workload-1.yaml")).unwrap();
        let mut workloads = Vec::new();
        let partition_line = if partition == "aws" { String::new() } else { format!("partition: {partition}\n") };
        let mut yaml = format!(
            "version: 1\n{partition_line}defaults:\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\nmanagement:\n  account: \"{mgmt}\"\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\nworkloads:\n"
        );
        for name in names {
            let account = moto.fresh_account();
            moto.create_role(&account, CAPA_ROLE, xacct_test_support::EC2_TRUST).await;
            let manifest = template.replace("workload-1", &format!("{name}-1"));
            std::fs::write(dir.path().join(format!("clusters/{name}-1.yaml")), manifest).unwrap();
            yaml.push_str(&format!(
                "  - name: {name}\n    account: \"{account}\"\n    identity: {{ name: {name}-account-role }}\n    manifests: [clusters/{name}-1.yaml]\n"
            ));
            workloads.push((name.to_string(), account));
        }
        std::fs::write(dir.path().join("xacct.yaml"), yaml).unwrap();
        let env = vec![
            ("AWS_ENDPOINT_URL".to_string(), moto.endpoint_url().to_string()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("AWS_REGION".into(), moto.region().to_string()),
            ("AWS_CONFIG_FILE".into(), "/nonexistent/xacct-test".into()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), "/nonexistent/xacct-test".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ];
        Scenario { dir, mgmt, workloads, partition: partition.to_string(), env }
    }

    /// The emulator seen from the scenario's partition.
    pub fn moto(&self) -> xacct_test_support::Moto {
        xacct_test_support::moto().in_partition(&self.partition)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Run the binary in the scenario's directory (blocking; fine inside a multi-thread runtime).
    pub fn run(&self, args: &[&str]) -> Run {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        tokio::task::block_in_place(|| xacct_in(self.dir.path(), args, &env))
    }
}

impl Scenario {
    /// The scenario's environment with `overrides` replacing (or adding to) it.
    pub fn env_with<'a>(&'a self, overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .filter(|(k, _)| !overrides.iter().any(|(o, _)| o == k))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.extend_from_slice(overrides);
        env
    }

    /// Like [`Scenario::run`], with some environment variables overridden (for instance
    /// `AWS_ENDPOINT_URL` pointing at a fault proxy for this one run).
    pub fn run_with(&self, args: &[&str], overrides: &[(&str, &str)]) -> Run {
        let env = self.env_with(overrides);
        tokio::task::block_in_place(|| xacct_in(self.dir.path(), args, &env))
    }

    /// Start `xacct ARGS` in the scenario's directory without waiting for it; stdin is empty and
    /// stdout/stderr go to `<dir>/<log>.stdout` and `<dir>/<log>.stderr`.
    pub fn spawn(&self, args: &[&str], log: &str) -> std::process::Child {
        let out = std::fs::File::create(self.path(&format!("{log}.stdout"))).unwrap();
        let err = std::fs::File::create(self.path(&format!("{log}.stderr"))).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xacct"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("XACCT_FILE")
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.spawn().expect("spawn xacct")
    }
}
