//! The backend conformance suite, run against the local backend.

use std::sync::atomic::{AtomicU32, Ordering};

use xacct_state::{conformance, LocalBackend};

#[tokio::test]
async fn local_backend_passes_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let n = AtomicU32::new(0);
    conformance::run_all(|| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        // A directory that does not exist yet: the backend creates it.
        LocalBackend::new(dir.path().join(format!("case-{i}")).join("default.json"))
    })
    .await;
    assert_eq!(n.load(Ordering::SeqCst) as usize, conformance::CHECKS.len());
}

#[tokio::test]
async fn every_named_check_exists() {
    let dir = tempfile::tempdir().unwrap();
    let b = LocalBackend::new(dir.path().join("s.json"));
    let r = conformance::run_one("no_such_check", &b).await;
    assert!(r.unwrap_err().contains("no_such_check"));
}
