//! Real OS processes against the local backend: lock races and kill -9 during writes.
//!
//! The test binary re-executes itself: `child_entry` does nothing unless `XACCT_STATE_TEST_ROLE`
//! is set, in which case it plays the child's role and exits with a code the parent checks.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use xacct_state::{commit, decode, Backend, LocalBackend, LockInfo, ResourceState, State, StateError};

const ROLE: &str = "XACCT_STATE_TEST_ROLE";
const PATH: &str = "XACCT_STATE_TEST_PATH";
const GO: &str = "XACCT_STATE_TEST_GO";

const WON: i32 = 0;
const LOST: i32 = 3;
const FAILED: i32 = 4;

fn spawn(role: &str, path: &Path, go: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(PATH, path)
        .env(GO, go)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
}

/// Not a test of its own: the body of the child processes.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let path = PathBuf::from(std::env::var_os(PATH).unwrap());
    let go = PathBuf::from(std::env::var_os(GO).unwrap());
    let backend = LocalBackend::new(path);
    let code = match role.as_str() {
        "lock" => {
            // Start line: spin until the parent says go, so both children hit `lock` together.
            let deadline = Instant::now() + Duration::from_secs(20);
            while !go.exists() && Instant::now() < deadline {
                std::thread::yield_now();
            }
            match runtime().block_on(backend.lock(&LockInfo::new("race", "test"))) {
                Ok(()) => WON,
                Err(StateError::Locked(_)) => LOST,
                Err(_) => FAILED,
            }
        }
        "writer" => runtime().block_on(async {
            let mut state = match backend.load().await {
                Ok(Some(s)) => s,
                Ok(None) => State::new("test"),
                Err(_) => return FAILED,
            };
            // Large enough that a write takes a while, so kills land mid-write.
            loop {
                let n = state.serial;
                for i in 0..300 {
                    state.insert(
                        format!("trust.w{i:03}"),
                        ResourceState {
                            kind: "trust".into(),
                            attributes: json!({"serial": n, "pad": "x".repeat(200 + (n as usize % 50))}),
                        },
                    );
                }
                if commit(&backend, &mut state, "test").await.is_err() {
                    return FAILED;
                }
            }
        }),
        _ => FAILED,
    };
    std::process::exit(code);
}

#[test]
fn two_processes_racing_for_the_lock_exactly_one_wins() {
    let rounds = 100;
    for round in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("default.json");
        let go = dir.path().join("go");
        let mut children: Vec<Child> = (0..2).map(|_| spawn("lock", &path, &go)).collect();
        std::thread::sleep(Duration::from_millis(30));
        fs::write(&go, b"").unwrap();
        let codes: Vec<i32> = children.iter_mut().map(|c| c.wait().unwrap().code().unwrap_or(-1)).collect();
        let winners: Vec<u32> =
            children.iter().zip(&codes).filter(|(_, &code)| code == WON).map(|(c, _)| c.id()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exit codes {codes:?}");
        assert_eq!(codes.iter().filter(|&&c| c == LOST).count(), 1, "round {round}: exit codes {codes:?}");
        let holder: LockInfo = serde_json::from_slice(&fs::read(format!("{}.lock", path.display())).unwrap()).unwrap();
        assert_eq!(holder.pid, winners[0], "round {round}: lock file names the winner");
        if round == 0 {
            // The winner exited without unlocking, as a killed process would: the lock stays,
            // names it, and tells how to release it; only its ID releases it.
            let backend = LocalBackend::new(&path);
            let rt = runtime();
            let err = rt.block_on(backend.lock(&LockInfo::new("plan", "test"))).unwrap_err();
            assert!(matches!(&err, StateError::Locked(h) if *h == holder), "{err:?}");
            assert!(err.to_string().contains(&format!("xacct force-unlock {}", holder.id)), "{err}");
            assert!(rt.block_on(backend.force_unlock("wrong")).is_err());
            rt.block_on(backend.force_unlock(&holder.id)).unwrap();
            let info = LockInfo::new("plan", "test");
            rt.block_on(backend.lock(&info)).unwrap();
            rt.block_on(backend.unlock(&info.id)).unwrap();
        }
    }
}

#[test]
fn kill_dash_nine_mid_write_leaves_a_readable_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("default.json");
    let go = dir.path().join("unused");
    let mut last_serial = 0;
    for round in 0..20 {
        let mut child = spawn("writer", &path, &go);
        // Wait for the first write of this round, then let it run a random while.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let serial = fs::read(&path).ok().and_then(|b| decode(&b).ok()).map(|s| s.serial).unwrap_or(0);
            if serial > last_serial {
                break;
            }
            assert!(Instant::now() < deadline, "round {round}: writer made no progress");
            if let Ok(Some(status)) = child.try_wait() {
                panic!("round {round}: writer exited early with {status}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if round % 2 == 0 {
            // At a random moment.
            std::thread::sleep(Duration::from_millis(rand::random_range(1..60)));
        } else {
            // Aimed at the write itself: as soon as a temp file shows up (or after a while).
            let dir = path.parent().unwrap();
            let until = Instant::now() + Duration::from_secs(2);
            while Instant::now() < until && !has_temp_file(dir) {
                std::thread::yield_now();
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let bytes = fs::read(&path).unwrap();
        let state = decode(&bytes).unwrap_or_else(|e| panic!("round {round}: state unreadable after kill: {e}"));
        assert!(state.serial > last_serial, "round {round}: serial went from {last_serial} to {}", state.serial);
        match fs::read(format!("{}.backup", path.display())) {
            Ok(backup) => {
                let backup = decode(&backup).unwrap_or_else(|e| panic!("round {round}: backup unreadable: {e}"));
                // Killed between saving the backup and replacing the state: they are equal.
                assert!(backup.serial <= state.serial, "round {round}: backup is newer");
            }
            // Only the very first write has no previous version to keep.
            Err(e) => assert!(state.serial == 1, "round {round}: no backup: {e}"),
        }
        last_serial = state.serial;
    }
    // Another writer carries on from what the killed ones left.
    let backend = LocalBackend::new(&path);
    let rt = runtime();
    let mut state = rt.block_on(backend.load()).unwrap().unwrap();
    rt.block_on(commit(&backend, &mut state, "test")).unwrap();
    assert_eq!(state.serial, last_serial + 1);
    // That write cleared the temp files the killed writers left behind.
    let mut names: Vec<String> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "default.json" && n != "default.json.backup")
        .collect();
    names.sort();
    assert_eq!(names, Vec::<String>::new(), "stray files left after a clean write");
}

fn has_temp_file(dir: &Path) -> bool {
    fs::read_dir(dir)
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".tmp")))
        .unwrap_or(false)
}
