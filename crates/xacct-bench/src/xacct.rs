//! Running the real `xacct` binary against the emulator, timed, and reading how many AWS calls it
//! says it made.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context as _};

use crate::floor::Measured;

/// The release binary and the environment pointing it at the emulator.
pub struct Xacct {
    pub bin: PathBuf,
    pub endpoint: String,
    pub parallelism: usize,
}

impl Xacct {
    fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .arg("--parallelism")
            .arg(self.parallelism.to_string())
            .current_dir(dir)
            .env_remove("XACCT_FILE")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("NO_COLOR", "1")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/nonexistent/xacct-bench")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/xacct-bench")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        cmd
    }

    fn run(&self, dir: &Path, args: &[&str]) -> anyhow::Result<(Measured, String, String)> {
        let mut cmd = self.command(dir, args);
        let start = Instant::now();
        let out = cmd.output().with_context(|| format!("run {}", self.bin.display()))?;
        let wall = start.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            bail!("`xacct {}` failed ({}):\n{stderr}", args.join(" "), out.status);
        }
        Ok((Measured { wall, calls: 0, org_calls: 0 }, stdout, stderr))
    }

    /// `xacct plan --json` in `dir`; the call counts are the plan's `summary.aws_calls` (IAM and
    /// STS) and `summary.organizations_calls` (discovery's, 0 when absent).
    pub fn plan(&self, dir: &Path) -> anyhow::Result<Measured> {
        Ok(self.plan_json(dir)?.0)
    }

    /// Like [`Xacct::plan`], with the plan itself.
    pub fn plan_json(&self, dir: &Path) -> anyhow::Result<(Measured, serde_json::Value)> {
        let (mut m, stdout, _) = self.run(dir, &["plan", "--json"])?;
        let plan: serde_json::Value = serde_json::from_str(&stdout).context("the plan is not JSON")?;
        m.calls = plan["summary"]["aws_calls"].as_u64().context("the plan has no summary.aws_calls")?;
        m.org_calls = plan["summary"]["organizations_calls"].as_u64().unwrap_or(0);
        Ok((m, plan))
    }

    /// `xacct apply --auto-approve --json` in `dir` (plan and apply in one run); the call count is
    /// the one its closing status line reports (every call of the run: the plan's and the apply's).
    pub fn apply(&self, dir: &Path) -> anyhow::Result<Measured> {
        let (mut m, _, stderr) = self.run(dir, &["apply", "--auto-approve", "--json"])?;
        m.calls = calls_in_status(&stderr).with_context(|| format!("no AWS call count in:\n{stderr}"))?;
        Ok(m)
    }
}

/// `…(709 AWS calls)` → 709, from the last line that says so.
pub fn calls_in_status(stderr: &str) -> Option<u64> {
    stderr.lines().rev().find_map(|line| {
        let head = line.trim_end().strip_suffix(" AWS calls)")?;
        head.rsplit('(').next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_count_from_the_status_line() {
        let err = "Applying 2 changes…\nApply complete: 2 done, 0 failed, 0 skipped. (14 AWS calls)\n";
        assert_eq!(calls_in_status(err), Some(14));
        assert_eq!(calls_in_status("nothing here"), None);
    }
}
