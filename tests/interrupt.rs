//! Ctrl-C during an apply (SIGINT to the real binary on the emulator): nothing new starts, steps
//! in flight finish, state is saved, the lock is released, and the next apply finishes the job.
//! Also: applying a saved plan after the desired-state file changed warns and applies as saved.

mod common;

use std::time::{Duration, Instant};

use common::{statements, Scenario, CAPA_ROLE};
use xacct_test_support::{moto, FaultConfig, FaultKind, FaultProxy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_scheduling_saves_state_and_releases_the_lock() {
    let names: Vec<String> = (0..12).map(|i| format!("w{i:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let s = Scenario::new(&names).await;

    // One step at a time, so the interrupt lands with most of the run still to go.
    let mut child = s.spawn(&["apply", "--auto-approve", "--parallelism", "1"], "apply");
    let log = s.path("apply.stderr");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log).unwrap_or_default().contains(": done ") {
        assert!(Instant::now() < deadline, "no step finished:\n{}", std::fs::read_to_string(&log).unwrap());
        assert!(child.try_wait().unwrap().is_none(), "apply ended before the interrupt");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = tokio::task::block_in_place(|| child.wait()).unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted: letting steps in flight finish"), "{stderr}");
    assert!(stderr.contains("skipped (the run was interrupted)"), "{stderr}");
    assert!(stderr.contains("run `xacct apply` again to continue"), "{stderr}");

    // The lock is gone and the state records the finished steps, and only those.
    assert!(!s.path("state/default.json.lock").exists(), "the lock was not released");
    let r = s.run(&["state", "list"]);
    r.assert_code(0);
    let recorded = r.stdout.lines().count();
    let done = stderr.matches(": done ").count();
    assert_eq!(recorded, done, "state lists what was done\n{}\n{stderr}", r.stdout);
    assert!(done >= 1 && done < 2 * names.len() + 1, "{done} of {} steps done", 2 * names.len() + 1);

    // The next apply finishes the job; nothing is duplicated.
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    for (_, account) in &s.workloads {
        let trust = statements(&moto().trust_of(account, CAPA_ROLE).await.unwrap());
        assert_eq!(trust.len(), 2, "{trust:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_after_the_file_changed_warns_and_applies_as_saved() {
    let s = Scenario::new(&["dev"]).await;
    s.run(&["plan", "-o", "reviewed.plan"]).assert_code(0);
    let spec = std::fs::read_to_string(s.path("xacct.yaml")).unwrap();
    std::fs::write(
        s.path("xacct.yaml"),
        spec.replace("identity: { name: dev-account-role }", "identity: { name: other }"),
    )
    .unwrap();
    let r = s.run(&["apply", "reviewed.plan"]);
    r.assert_code(0);
    assert!(r.stderr.contains("changed since this plan was made"), "{}", r.stderr);
    let manifest = std::fs::read_to_string(s.path("clusters/dev-1.yaml")).unwrap();
    assert!(manifest.contains("name: dev-account-role") && !manifest.contains("name: other"), "{manifest}");
}

/// Start `xacct ARGS` against an emulator that answers every request 3 s late, wait until it
/// holds the state lock, send Ctrl-C, and return its exit code and stderr.
async fn interrupt_while_reading(s: &Scenario, args: &[&str], log: &str) -> (Option<i32>, String) {
    let slow = FaultConfig { rate: 1.0, seed: 7, kinds: vec![FaultKind::Delay(3_000)] };
    let proxy = FaultProxy::start(moto().endpoint_url(), slow).await.expect("start the proxy");
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["--endpoint-url", proxy.url()]);
    let mut child = s.spawn(&full, log);
    let lock = s.path("state/default.json.lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lock.exists() {
        assert!(Instant::now() < deadline, "never took the lock");
        assert!(
            child.try_wait().unwrap().is_none(),
            "{}",
            std::fs::read_to_string(s.path(&format!("{log}.stderr"))).unwrap()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let status = tokio::task::block_in_place(|| child.wait()).unwrap();
    assert!(!lock.exists(), "the lock outlived the interrupted run");
    (status.code(), std::fs::read_to_string(s.path(&format!("{log}.stderr"))).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_planning_releases_the_lock_and_changes_nothing() {
    let s = Scenario::new(&["dev"]).await;
    let trust_before = moto().trust_of(&s.workloads[0].1, CAPA_ROLE).await.unwrap();

    let (code, stderr) = interrupt_while_reading(&s, &["plan"], "plan").await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("interrupted while planning; nothing was changed"), "{stderr}");

    let (code, stderr) = interrupt_while_reading(&s, &["apply", "--auto-approve"], "apply").await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("interrupted before anything was changed"), "{stderr}");
    assert!(!s.path("state/default.json").exists(), "no state was written");
    assert_eq!(moto().trust_of(&s.workloads[0].1, CAPA_ROLE).await.unwrap(), trust_before);
    s.run(&["apply", "--auto-approve"]).assert_code(0);
}

/// Drives `xacct apply` on a pseudo-terminal to its `yes` prompt, then types Ctrl-C; prints the
/// exit code and the output. (Python's pty module: the tests already need Python for moto.)
const PROMPT_DRIVER: &str = r#"
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "apply"])
out = b""
def read(seconds, until=None):
    global out
    end = time.time() + seconds
    while time.time() < end:
        if until is not None and until in out:
            return
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return
            if not data:
                return
            out += data
read(60, until=b"Only `yes` is accepted")
if b"Only `yes` is accepted" not in out:
    print("NO PROMPT"); print(out.decode(errors="replace")); sys.exit(0)
os.write(fd, b"\x03")
start = time.time()
while time.time() - start < 10:
    read(0.2)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("EXIT", os.waitstatus_to_exitcode(status), round(time.time() - start, 2))
        print(out.decode(errors="replace"))
        sys.exit(0)
os.kill(pid, 9)
print("HUNG"); print(out.decode(errors="replace"))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_at_the_prompt_exits_at_once_and_releases_the_lock() {
    let s = Scenario::new(&["dev"]).await;
    let env = s.env_with(&[]);
    let out = tokio::task::block_in_place(|| {
        std::process::Command::new("python3")
            .args(["-c", PROMPT_DRIVER, env!("CARGO_BIN_EXE_xacct")])
            .current_dir(s.path(""))
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .output()
            .expect("python3 runs the pty driver")
    });
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("EXIT 1 "), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("interrupted before anything was changed"), "{text}");
    assert!(!s.path("state/default.json.lock").exists(), "the lock was left behind");
    assert!(!s.path("state/default.json").exists(), "nothing was applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_waiting_for_a_held_lock_gives_up_at_once() {
    let s = Scenario::new(&["dev"]).await;
    std::fs::create_dir_all(s.path("state")).unwrap();
    let holder = serde_json::json!({"ID": "22222222-0000-4000-8000-000000000002", "operation": "apply", "who": "ci@runner-3", "host": "runner-3", "pid": 4, "version": "0.1.0", "created": "2026-11-29T10:00:00Z"});
    std::fs::write(s.path("state/default.json.lock"), holder.to_string()).unwrap();
    let mut child = s.spawn(&["apply", "--auto-approve", "--lock-timeout", "30s"], "wait");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "still waiting for the lock");
    let t = Instant::now();
    assert!(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let status = tokio::task::block_in_place(|| child.wait()).unwrap();
    let stderr = std::fs::read_to_string(s.path("wait.stderr")).unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}: {stderr}", t.elapsed());
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted while waiting for the state lock held by `ci@runner-3`"), "{stderr}");
    let still: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("state/default.json.lock")).unwrap()).unwrap();
    assert_eq!(still, holder, "the holder's lock is untouched");
}
