//! `S3Backend` on the emulator: the state conformance suite, conditional writes, a missing bucket.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::settings;
use xacct_aws::S3Backend;
use xacct_state::{conformance, Backend, LockInfo, StateError};
use xacct_test_support::{moto, FaultConfig, FaultProxy};

async fn backend_on_fresh_bucket(endpoint: &str) -> S3Backend {
    let moto = moto();
    let bucket = moto.fresh_bucket_name();
    moto.create_bucket(&bucket).await;
    S3Backend::new(&settings(endpoint, &[]), &bucket, "prod/xacct.json", None).await
}

#[tokio::test]
async fn passes_the_state_conformance_suite() {
    let backend = backend_on_fresh_bucket(moto().endpoint_url()).await;
    let n = AtomicU32::new(0);
    conformance::run_all(|| backend.with_key(&format!("case-{}/xacct.json", n.fetch_add(1, Ordering::SeqCst)))).await;
}

#[tokio::test]
async fn passes_the_conformance_suite_through_faults() {
    let proxy = FaultProxy::start(moto().endpoint_url(), FaultConfig::failures(0.2, 99)).await.unwrap();
    let backend = backend_on_fresh_bucket(proxy.url()).await;
    let n = AtomicU32::new(0);
    conformance::run_all(|| backend.with_key(&format!("case-{}/xacct.json", n.fetch_add(1, Ordering::SeqCst)))).await;
    assert!(proxy.counts().failures() > 0, "{:?}", proxy.counts());
}

#[tokio::test]
async fn a_write_over_a_state_changed_since_load_is_refused() {
    let a = backend_on_fresh_bucket(moto().endpoint_url()).await;
    let b = a.with_key("prod/xacct.json");
    let s1 = conformance::sample_state(1);
    a.persist(&s1).await.unwrap();

    // Both load serial 1; b writes serial 2; a's write (made from what it loaded) must not land.
    assert_eq!(a.load().await.unwrap().unwrap().serial, 1);
    assert_eq!(b.load().await.unwrap().unwrap().serial, 1);
    let mut from_b = s1.clone();
    from_b.serial = 2;
    from_b.resources.clear();
    b.persist(&from_b).await.unwrap();
    let mut from_a = s1.clone();
    from_a.serial = 3;
    let err = a.persist(&from_a).await.unwrap_err();
    assert!(matches!(err, StateError::StaleSerial { stored: 2, incoming: 3 }), "{err:?}");
    assert_eq!(a.load().await.unwrap().unwrap(), from_b, "b's write survived");

    // After re-loading, a may write on top of b.
    from_a.serial = 4;
    a.persist(&from_a).await.unwrap();
    assert_eq!(b.load().await.unwrap().unwrap(), from_a);
}

#[tokio::test]
async fn a_held_lock_names_its_holder() {
    let a = backend_on_fresh_bucket(moto().endpoint_url()).await;
    let b = a.with_key("prod/xacct.json");
    let holder = LockInfo::new("apply", "0.1.0");
    a.lock(&holder).await.unwrap();
    let err = b.lock(&LockInfo::new("plan", "0.1.0")).await.unwrap_err();
    assert!(matches!(&err, StateError::Locked(info) if *info == holder), "{err:?}");
    assert_eq!(b.lock_info().await.unwrap(), Some(holder.clone()));
    b.force_unlock(&holder.id).await.unwrap();
    assert_eq!(a.lock_info().await.unwrap(), None);
    assert_eq!(a.describe(), format!("{}", a.describe()));
    assert!(a.describe().starts_with("s3://xacct-test-") && a.describe().ends_with("/prod/xacct.json"));
}

#[tokio::test]
async fn a_missing_bucket_says_so() {
    let backend =
        S3Backend::new(&settings(moto().endpoint_url(), &[]), "xacct-no-such-bucket-7d1c", "k.json", None).await;
    for err in [
        backend.load().await.unwrap_err(),
        backend.lock(&LockInfo::new("plan", "0.1.0")).await.unwrap_err(),
        backend.persist(&conformance::sample_state(1)).await.unwrap_err(),
    ] {
        let text = err.to_string();
        assert!(text.contains("bucket `xacct-no-such-bucket-7d1c` does not exist"), "{text}");
        assert!(!text.contains(common::SECRET), "{text}");
    }
}
