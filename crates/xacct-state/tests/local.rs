//! The local backend's file handling, the format's refusals, and the state operations.

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use xacct_state::conformance::sample_state;
use xacct_state::{
    check_push, commit, decode, decode_from, encode, lock_with_timeout, prepare_push, Backend, LocalBackend, LockInfo,
    ResourceState, State, StateError, FORMAT_VERSION,
};

fn backend(dir: &Path) -> LocalBackend {
    LocalBackend::new(dir.join("state").join("default.json"))
}

#[tokio::test]
async fn write_is_pretty_private_and_keeps_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let mut s = State::new("0.1.0");
    commit(&b, &mut s, "0.1.0").await.unwrap();
    assert_eq!(s.serial, 1);
    let first = fs::read(b.path()).unwrap();
    assert!(first.ends_with(b"}\n"), "trailing newline");
    assert!(first.starts_with(b"{\n  \"format_version\": 1,\n"), "pretty, stable key order");
    assert!(!b.backup_path().exists(), "no backup before a second write");
    #[cfg(unix)]
    assert_eq!(fs::metadata(b.path()).unwrap().permissions().mode() & 0o777, 0o600);

    s.insert("trust.dev", ResourceState { kind: "trust".into(), attributes: json!({"a": 1}) });
    commit(&b, &mut s, "0.1.1").await.unwrap();
    assert_eq!(s.serial, 2);
    assert_eq!(fs::read(b.backup_path()).unwrap(), first, "backup holds the previous version");
    let loaded = b.load().await.unwrap().unwrap();
    assert_eq!(loaded, s);
    assert_eq!(loaded.xacct_version, "0.1.1");
    // No temp files left behind after successful writes.
    let names: Vec<String> = fs::read_dir(b.path().parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["default.json", "default.json.backup"], "{names:?}");
}

#[tokio::test]
async fn commit_restores_serial_when_refused() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    b.persist(&sample_state(10)).await.unwrap();
    let mut other = State::new("0.1.0");
    let r = commit(&b, &mut other, "0.1.0").await;
    assert!(matches!(r, Err(StateError::LineageMismatch { .. })), "{r:?}");
    assert_eq!(other.serial, 0);
}

#[tokio::test]
async fn stale_serial_is_refused_and_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let s = sample_state(3);
    b.persist(&s).await.unwrap();
    let before = fs::read(b.path()).unwrap();
    let mut stale = s.clone();
    stale.resources.clear();
    let err = b.persist(&stale).await.unwrap_err();
    assert!(matches!(err, StateError::StaleSerial { stored: 3, incoming: 3 }), "{err:?}");
    assert!(err.to_string().contains("serial 3"), "{err}");
    assert_eq!(fs::read(b.path()).unwrap(), before);
}

#[tokio::test]
async fn corrupt_state_gives_position_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    fs::create_dir_all(b.path().parent().unwrap()).unwrap();
    let corrupt = b"{\n  \"format_version\": 1,\n  \"serial\": 3,,\n}\n";
    fs::write(b.path(), corrupt).unwrap();

    let err = b.load().await.unwrap_err();
    match &err {
        StateError::Corrupt { origin, line, column, .. } => {
            assert_eq!(origin, &b.path().display().to_string());
            assert_eq!((*line, *column), (3, 15));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("default.json") && msg.contains("line 3, column 15"), "{msg}");
    assert!(msg.contains("left untouched"), "{msg}");

    // Neither persist nor a truncated file nor a type error overwrite it.
    let err = b.persist(&sample_state(100)).await.unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
    assert_eq!(fs::read(b.path()).unwrap(), corrupt);
    assert!(!b.backup_path().exists());
}

#[test]
fn decode_errors_are_precise() {
    let e = decode(b"").unwrap_err();
    assert!(matches!(e, StateError::Corrupt { line: 1, .. }), "{e:?}");
    let e = decode(b"[]").unwrap_err();
    assert!(e.to_string().contains("expected a JSON object"), "{e}");
    let e = decode(b"{\"serial\": 1}").unwrap_err();
    assert!(e.to_string().contains("missing `format_version`"), "{e}");
    let e = decode(b"{\"format_version\": 0}").unwrap_err();
    assert!(matches!(e, StateError::UnsupportedFormat { .. }), "{e:?}");
    let e = decode(b"{\"format_version\": \"1\"}").unwrap_err();
    assert!(matches!(e, StateError::UnsupportedFormat { .. }), "{e:?}");
    // Type error inside a v1 document: position of the bad value.
    let e = decode_from(
        "x.json",
        b"{\"format_version\": 1,\n\"xacct_version\": \"0\",\n\"lineage\": \"l\",\n\"serial\": \"three\"}",
    )
    .unwrap_err();
    match &e {
        StateError::Corrupt { origin, line: 4, reason, .. } => {
            assert_eq!(origin, "x.json");
            assert!(reason.contains("invalid type"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // Unknown fields are refused rather than silently dropped on the next write.
    let e = decode(b"{\"format_version\":1,\"xacct_version\":\"0\",\"lineage\":\"l\",\"serial\":1,\"extra\":1}")
        .unwrap_err();
    assert!(e.to_string().contains("unknown field `extra`"), "{e}");
    let e = decode(b"{\"format_version\":1,\"xacct_version\":\"0\",\"lineage\":\" \",\"serial\":1}").unwrap_err();
    assert!(matches!(e, StateError::Invalid { .. }), "{e:?}");
    let e = decode(
        b"{\"format_version\":1,\"xacct_version\":\"0\",\"lineage\":\"l\",\"serial\":1,\"resources\":{\"a\":{\"kind\":\"\"}}}",
    )
    .unwrap_err();
    assert!(e.to_string().contains("empty `kind`"), "{e}");
}

#[tokio::test]
async fn newer_format_is_refused_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    fs::create_dir_all(b.path().parent().unwrap()).unwrap();
    let future = format!(
        "{{\"format_version\": {}, \"xacct_version\": \"9.0.0\", \"lineage\": \"x\", \"serial\": 1, \"new\": []}}\n",
        FORMAT_VERSION + 1
    );
    fs::write(b.path(), &future).unwrap();
    let err = b.load().await.unwrap_err();
    assert!(
        matches!(&err, StateError::NewerFormat { found: 2, supported: 1, written_by: Some(v), .. } if v == "9.0.0"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("upgrade xacct") && msg.contains("`9.0.0`"), "{msg}");
    for r in [b.persist(&sample_state(5)).await, b.replace(&sample_state(5)).await] {
        assert!(matches!(r, Err(StateError::NewerFormat { .. })), "{r:?}");
    }
    assert_eq!(fs::read_to_string(b.path()).unwrap(), future);
}

#[tokio::test]
async fn replace_may_overwrite_a_corrupt_state() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    fs::create_dir_all(b.path().parent().unwrap()).unwrap();
    fs::write(b.path(), b"garbage").unwrap();
    let s = sample_state(1);
    b.replace(&s).await.unwrap();
    assert_eq!(b.load().await.unwrap(), Some(s));
    assert_eq!(fs::read(b.backup_path()).unwrap(), b"garbage");
}

#[tokio::test]
async fn credentials_are_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let mut s = sample_state(1);
    s.insert(
        "trust.leaky",
        ResourceState { kind: "trust".into(), attributes: json!({"creds": [{"Secret_Access-Key": "x"}]}) },
    );
    let err = b.persist(&s).await.unwrap_err();
    assert!(
        matches!(&err, StateError::CredentialInState { address, key } if address == "trust.leaky" && key == "Secret_Access-Key"),
        "{err:?}"
    );
    assert!(!b.path().exists());
    assert!(matches!(check_push(None, &s, true), Err(StateError::CredentialInState { .. })));
}

#[tokio::test]
async fn lock_file_holds_lock_info_and_message_says_how_to_release() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path()); // directory does not exist yet
    let info = LockInfo::new("apply", "0.1.0");
    b.lock(&info).await.unwrap();
    let on_disk: LockInfo = serde_json::from_slice(&fs::read(b.lock_path()).unwrap()).unwrap();
    assert_eq!(on_disk, info);
    let raw: serde_json::Value = serde_json::from_slice(&fs::read(b.lock_path()).unwrap()).unwrap();
    for key in ["ID", "operation", "who", "host", "pid", "version", "created"] {
        assert!(raw.get(key).is_some(), "lock file lacks `{key}`: {raw}");
    }
    #[cfg(unix)]
    assert_eq!(fs::metadata(b.lock_path()).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(b.lock_info().await.unwrap(), Some(info.clone()));

    let err = b.lock(&LockInfo::new("plan", "0.1.0")).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("xacct force-unlock {}", info.id)), "{msg}");
    assert!(msg.contains(&info.who) && msg.contains(&info.host) && msg.contains("`apply`"), "{msg}");

    let err = lock_with_timeout(&b, &LockInfo::new("plan", "0.1.0"), Duration::ZERO).await.unwrap_err();
    assert!(matches!(err, StateError::Locked(_)), "{err:?}");
    b.unlock(&info.id).await.unwrap();
    assert!(!b.lock_path().exists());
    assert_eq!(b.lock_info().await.unwrap(), None);
}

#[tokio::test]
async fn lock_with_timeout_waits_for_release() {
    let dir = tempfile::tempdir().unwrap();
    let b = std::sync::Arc::new(backend(dir.path()));
    let holder = LockInfo::new("apply", "0.1.0");
    b.lock(&holder).await.unwrap();
    let b2 = b.clone();
    let id = holder.id.clone();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        b2.unlock(&id).await.unwrap();
    });
    let waiter = LockInfo::new("plan", "0.1.0");
    lock_with_timeout(b.as_ref(), &waiter, Duration::from_secs(10)).await.unwrap();
    release.await.unwrap();
    assert_eq!(b.lock_info().await.unwrap(), Some(waiter));
}

#[tokio::test]
async fn an_empty_lock_file_is_reported_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    fs::create_dir_all(b.path().parent().unwrap()).unwrap();
    fs::write(b.lock_path(), b"").unwrap();
    let err = b.lock(&LockInfo::new("plan", "0.1.0")).await.unwrap_err();
    assert!(matches!(err, StateError::LockUnreadable { .. }), "{err:?}");
    assert!(err.to_string().contains("delete it"), "{err}");
    assert!(b.lock_path().exists());
}

#[test]
fn beside_puts_state_next_to_the_desired_file() {
    let b = LocalBackend::beside(Path::new("/srv/infra/xacct.yaml"));
    assert_eq!(b.path(), Path::new("/srv/infra/state/default.json"));
    assert_eq!(b.lock_path(), Path::new("/srv/infra/state/default.json.lock"));
    assert_eq!(b.backup_path(), Path::new("/srv/infra/state/default.json.backup"));
    let b = LocalBackend::beside(Path::new("xacct.yaml"));
    assert_eq!(b.path(), Path::new("state/default.json"));
    assert!(b.describe().contains("state/default.json"));
}

#[test]
fn new_state_has_a_fresh_uuid_lineage() {
    let a = State::new("0.1.0");
    let b = State::new("0.1.0");
    assert_ne!(a.lineage, b.lineage);
    assert_eq!(a.lineage.len(), 36);
    assert_eq!(a.lineage.as_bytes()[14], b'4');
    assert_eq!((a.serial, a.format_version), (0, FORMAT_VERSION));
    assert!(a.resources.is_empty());
    assert_eq!(decode(&encode(&a)).unwrap(), a);
}

#[test]
fn list_show_and_rm() {
    let mut s = sample_state(1);
    let list: Vec<&str> = s.addresses().collect();
    assert_eq!(list, ["manifest.dev[\"clusters/dev-1.yaml\"]", "trust.dev"]);
    assert_eq!(s.show("trust.dev").unwrap().kind, "trust");
    let err = s.show("trust.dve").unwrap_err();
    assert_eq!(err.to_string(), "no resource `trust.dve` in state; did you mean `trust.dev`?");
    let err = s.show("zzz").unwrap_err();
    assert_eq!(err.to_string(), "no resource `zzz` in state");
    let removed = s.remove("trust.dev").unwrap();
    assert_eq!(removed.kind, "trust");
    assert!(matches!(s.remove("trust.dev"), Err(StateError::NoSuchAddress { .. })));
    assert_eq!(s.addresses().count(), 1);
}

#[tokio::test]
async fn rm_then_commit_bumps_serial() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    b.persist(&sample_state(4)).await.unwrap();
    let mut s = b.load().await.unwrap().unwrap();
    s.remove("trust.dev").unwrap();
    commit(&b, &mut s, "0.1.0").await.unwrap();
    let back = b.load().await.unwrap().unwrap();
    assert_eq!(back.serial, 5);
    assert!(back.get("trust.dev").is_none());
}

#[test]
fn push_checks() {
    let current = sample_state(5);
    let mut newer = current.clone();
    newer.serial = 6;
    check_push(Some(&current), &newer, false).unwrap();
    check_push(None, &current, false).unwrap();

    let same = current.clone();
    let err = check_push(Some(&current), &same, false).unwrap_err();
    assert!(matches!(err, StateError::PushRefused { .. }), "{err:?}");
    assert!(err.to_string().contains("serial 5, not newer than the stored serial 5"), "{err}");
    assert!(err.to_string().contains("pass --force"), "{err}");
    let mut older = current.clone();
    older.serial = 2;
    assert!(matches!(check_push(Some(&current), &older, false), Err(StateError::PushRefused { .. })));
    let other = sample_state(50);
    let err = check_push(Some(&current), &other, false).unwrap_err();
    assert!(matches!(err, StateError::PushRefused { .. }), "{err:?}");
    assert!(err.to_string().contains(&other.lineage));

    // force: allowed, and the written serial moves past the current one.
    check_push(Some(&current), &older, true).unwrap();
    assert_eq!(prepare_push(Some(&current), &older, true).unwrap().serial, 6);
    assert_eq!(prepare_push(Some(&current), &other, true).unwrap().serial, 50);
    assert_eq!(prepare_push(Some(&current), &newer, false).unwrap(), newer);
    assert!(prepare_push(Some(&current), &older, false).is_err());
}

#[tokio::test]
async fn forced_push_of_an_older_serial_persists() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let current = sample_state(5);
    b.persist(&current).await.unwrap();
    let mut older = current.clone();
    older.serial = 1;
    older.resources.clear();
    let to_write = prepare_push(Some(&current), &older, true).unwrap();
    b.persist(&to_write).await.unwrap();
    assert_eq!(b.load().await.unwrap().unwrap().serial, 6);
}

/// A process killed at any moment of `lock` must leave either no lock or one `force-unlock` can
/// read: so no reader may ever see the lock file without its complete record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_file_never_exists_without_its_record() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let lock_path = b.lock_path();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut seen, mut torn) = (0u32, Vec::new());
            while !stop.load(Ordering::SeqCst) {
                if let Ok(bytes) = fs::read(&lock_path) {
                    seen += 1;
                    if serde_json::from_slice::<LockInfo>(&bytes).is_err() {
                        torn.push(String::from_utf8_lossy(&bytes).into_owned());
                    }
                }
            }
            (seen, torn)
        })
    };
    for _ in 0..300 {
        let info = LockInfo::new("apply", "0.1.0");
        b.lock(&info).await.unwrap();
        b.unlock(&info.id).await.unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let (seen, torn) = watcher.join().unwrap();
    assert!(seen > 0, "the watcher saw the lock file at least once");
    assert!(
        torn.is_empty(),
        "the lock file was seen {} times of {seen} without its record: {:?}",
        torn.len(),
        torn.first()
    );
    let leftovers: Vec<_> = fs::read_dir(b.path().parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(leftovers.is_empty(), "nothing left in the state directory: {leftovers:?}");
}
