//! When xacct cannot act in an account at all — no credentials, an access role in the wrong
//! account, an endpoint that does not answer — it says so once per cause, with what to do, not
//! once per resource; and when no account could be read it lists no change.

mod common;

use std::path::Path;
use std::process::Command;

use common::{root, Run, Scenario};

/// Copy `examples/two-accounts` into a temporary directory (plan takes its state lock there).
fn two_accounts() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = root().join("examples/two-accounts");
    std::fs::create_dir_all(dir.path().join("clusters")).unwrap();
    std::fs::copy(from.join("xacct.yaml"), dir.path().join("xacct.yaml")).unwrap();
    std::fs::copy(from.join("clusters/workload-1.yaml"), dir.path().join("clusters/workload-1.yaml")).unwrap();
    dir
}

/// `xacct ARGS` in `dir` as a new user runs it: no AWS variable, no config file, no emulator,
/// instance metadata off (so nothing reaches the network), plus `env`.
fn bare(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let home = dir.join("no-home");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xacct"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("NO_COLOR", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run xacct").into()
}

/// The `error:` lines of a run, stdout and stderr together.
fn errors(r: &Run) -> Vec<String> {
    format!("{}\n{}", r.stdout, r.stderr).lines().filter(|l| l.starts_with("error: ")).map(str::to_string).collect()
}

#[test]
fn no_credentials_is_one_error_naming_the_sources_and_the_fix() {
    let dir = two_accounts();
    for args in [&["plan"][..], &["apply", "--auto-approve"]] {
        let r = bare(dir.path(), args, &[]);
        r.assert_code(1);
        let all = format!("{}\n{}", r.stdout, r.stderr);
        let errors = errors(&r);
        // One error for the cause (both accounts), and the command's own last line.
        assert_eq!(errors.len(), 2, "{args:?}: {errors:#?}");
        let cause = &errors[0];
        assert!(
            cause.starts_with(
                "error: no account could be read (111111111111, 222222222222), so nothing was compared with live IAM and no change is listed: found no AWS credentials; the default credential chain tried, in order: "
            ),
            "{cause}"
        );
        for source in [
            "environment variables (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): not set",
            "the shared config and credentials files (~/.aws/config, ~/.aws/credentials: AWS_PROFILE, else profile `default`)",
            "web identity (AWS_WEB_IDENTITY_TOKEN_FILE): not set",
            "the ECS container endpoint: not configured",
            "EC2 instance metadata (IMDS): turned off by AWS_EC2_METADATA_DISABLED",
        ] {
            assert!(cause.contains(source), "`{source}` not in: {cause}");
        }
        // The SDK's own chain of errors is not what a person reads.
        assert!(!all.contains("dispatch failure") && !all.contains("credential provider was not enabled"), "{all}");
        // The fix, once.
        let hints: Vec<&str> = all.lines().filter(|l| l.starts_with("hint: ")).collect();
        assert_eq!(hints.len(), 1, "{all}");
        for fix in [
            "AWS_PROFILE",
            "`aws sso login --profile NAME`",
            "`access` block",
            "--endpoint-url",
            "docs/troubleshooting.md",
        ] {
            assert!(hints[0].contains(fix), "`{fix}` not in: {}", hints[0]);
        }
        // No plan body: nothing was compared with anything.
        assert!(!all.contains("xacct will:") && !all.contains("manifest.workload"), "{all}");
        assert!(r.stdout.contains("No changes planned."), "{}", r.stdout);
        assert!(r.stdout.contains("This plan cannot be applied: 1 error above."), "{}", r.stdout);
    }
    // Nothing was written.
    assert_eq!(
        std::fs::read(dir.path().join("clusters/workload-1.yaml")).unwrap(),
        std::fs::read(root().join("examples/two-accounts/clusters/workload-1.yaml")).unwrap()
    );

    // The same in JSON: one diagnostic without an address, its hint apart, no change.
    let r = bare(dir.path(), &["plan", "--json"], &[]);
    r.assert_code(1);
    let plan: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["changes"], serde_json::json!([]), "{}", r.stdout);
    let diags = plan["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{}", r.stdout);
    assert!(diags[0].get("address").is_none(), "{}", r.stdout);
    assert!(diags[0]["hint"].as_str().unwrap().contains("AWS_PROFILE"), "{}", r.stdout);
}

#[test]
fn an_endpoint_that_does_not_answer_is_one_error() {
    let dir = two_accounts();
    // Nothing listens on port 9; one attempt per call so it fails at once.
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIAXACCTBASE0000001"),
        ("AWS_SECRET_ACCESS_KEY", "xacctBASEsecret0000+ThisMustNeverBeLogged"),
        ("AWS_MAX_ATTEMPTS", "1"),
        ("AWS_REGION", "us-east-1"),
    ];
    let r = bare(dir.path(), &["plan", "--endpoint-url", "http://127.0.0.1:9"], &env);
    r.assert_code(1);
    let errors = errors(&r);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("error: no account could be read (111111111111, 222222222222), so nothing was compared with live IAM and no change is listed: `sts:AssumeRole` failed: could not reach the AWS endpoint"),
        "{}",
        errors[0]
    );
    let all = format!("{}\n{}", r.stdout, r.stderr);
    let hints: Vec<&str> = all.lines().filter(|l| l.starts_with("hint: ")).collect();
    assert_eq!(hints.len(), 1, "{all}");
    assert!(hints[0].contains("--endpoint-url") && hints[0].contains("--log-level debug"), "{}", hints[0]);
    assert!(!all.contains("xacct will:"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_out_of_reach_is_one_error_and_the_others_are_planned() {
    let s = Scenario::new(&["dev", "prod"]).await;
    let (_, dev) = &s.workloads[0];
    let (_, prod) = &s.workloads[1];
    // prod's access role is in dev's account: xacct refuses to use it for prod.
    let yaml = std::fs::read_to_string(s.path("xacct.yaml")).unwrap();
    let wrong = format!("arn:aws:iam::{dev}:role/OrganizationAccountAccessRole");
    let yaml = yaml.replace(
        &format!("    account: \"{prod}\"\n"),
        &format!("    account: \"{prod}\"\n    access: {{ assume_role: {{ role_arn: \"{wrong}\" }} }}\n"),
    );
    std::fs::write(s.path("xacct.yaml"), yaml).unwrap();

    let r = s.run(&["plan"]);
    r.assert_code(1);
    let errors = errors(&r);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(
        errors[0],
        format!("error: cannot read account {prod}: the role to assume, `{wrong}`, is not in account {prod}")
    );
    let all = format!("{}\n{}", r.stdout, r.stderr);
    assert_eq!(all.matches(&wrong).count(), 1, "{all}");
    assert!(all.contains("hint: xacct starts from the default credential chain"), "{all}");
    // The accounts that could be read are planned as usual.
    assert!(r.stdout.contains("xacct will:"), "{}", r.stdout);
    assert!(r.stdout.contains("+ trust.dev"), "{}", r.stdout);
    assert!(r.stdout.contains("+ assume_policy.management"), "{}", r.stdout);
    assert!(!r.stdout.contains("trust.prod  (create)"), "{}", r.stdout);
}

#[test]
fn an_sso_profile_without_a_session_says_to_log_in() {
    let dir = two_accounts();
    let aws = dir.path().join("no-home/.aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        "[profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\nregion = us-east-1\n\n\
         [sso-session corp]\nsso_start_url = https://corp.example.invalid/start\nsso_region = us-east-1\n",
    )
    .unwrap();
    let r = bare(dir.path(), &["plan"], &[("AWS_PROFILE", "dev")]);
    r.assert_code(1);
    let errors = errors(&r);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].ends_with(
            ": could not load credentials from the default credentials: no valid SSO session (failed to load the cached SSO token); run `aws sso login --profile dev`"
        ),
        "{}",
        errors[0]
    );
}
