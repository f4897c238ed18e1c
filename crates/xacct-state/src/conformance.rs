//! The conformance suite every [`Backend`] passes (local here, S3 in `xacct-aws`).
//!
//! ```no_run
//! # async fn demo() {
//! use xacct_state::{conformance, LocalBackend};
//! let dir = std::env::temp_dir();
//! let n = std::sync::atomic::AtomicU32::new(0);
//! conformance::run_all(|| {
//!     let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
//!     LocalBackend::new(dir.join(format!("conformance-{i}/state.json")))
//! })
//! .await;
//! # }
//! ```
//!
//! `make` must return a backend over fresh, empty storage each time it is called (a new directory,
//! a new S3 key). Each check is also public, for running them one by one.

use std::fmt;
use std::time::Duration;

use serde_json::json;

use crate::{lock_with_timeout, Backend, LockInfo, ResourceState, State, StateError, FORMAT_VERSION};

/// One check that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub check: &'static str,
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.message)
    }
}

/// What a single check returns: `Err` with what went wrong.
pub type CheckResult = Result<(), String>;

/// The names of every check, in the order [`run_all`] runs them.
pub const CHECKS: &[&str] = &[
    "empty_load_is_none",
    "persist_then_load_round_trips",
    "newer_serial_is_accepted",
    "stale_serial_is_refused",
    "different_lineage_is_refused",
    "lock_is_exclusive_and_names_holder",
    "unlock_with_wrong_id_is_refused",
    "unlock_then_lock_again",
    "unlock_when_not_locked_is_refused",
    "force_unlock_needs_the_holding_id",
    "holder_can_read_and_write_while_locked",
    "lock_with_timeout_names_holder",
    "replace_ignores_lineage_and_serial",
];

/// Run every check, each on a fresh backend from `make`; panics listing every failure.
pub async fn run_all<B: Backend>(make: impl Fn() -> B) {
    let failures = check_all(make).await;
    if !failures.is_empty() {
        let list: Vec<String> = failures.iter().map(|f| format!("  - {f}")).collect();
        panic!("{} of {} backend conformance checks failed:\n{}", failures.len(), CHECKS.len(), list.join("\n"));
    }
}

/// Run every check, each on a fresh backend from `make`; returns the failures.
pub async fn check_all<B: Backend>(make: impl Fn() -> B) -> Vec<Failure> {
    let mut failures = Vec::new();
    for &check in CHECKS {
        let backend = make();
        if let Err(message) = run_one(check, &backend).await {
            failures.push(Failure { check, message: format!("[{}] {message}", backend.describe()) });
        }
    }
    failures
}

/// Run the check named `name` (one of [`CHECKS`]).
pub async fn run_one<B: Backend + ?Sized>(name: &str, b: &B) -> CheckResult {
    match name {
        "empty_load_is_none" => empty_load_is_none(b).await,
        "persist_then_load_round_trips" => persist_then_load_round_trips(b).await,
        "newer_serial_is_accepted" => newer_serial_is_accepted(b).await,
        "stale_serial_is_refused" => stale_serial_is_refused(b).await,
        "different_lineage_is_refused" => different_lineage_is_refused(b).await,
        "lock_is_exclusive_and_names_holder" => lock_is_exclusive_and_names_holder(b).await,
        "unlock_with_wrong_id_is_refused" => unlock_with_wrong_id_is_refused(b).await,
        "unlock_then_lock_again" => unlock_then_lock_again(b).await,
        "unlock_when_not_locked_is_refused" => unlock_when_not_locked_is_refused(b).await,
        "force_unlock_needs_the_holding_id" => force_unlock_needs_the_holding_id(b).await,
        "holder_can_read_and_write_while_locked" => holder_can_read_and_write_while_locked(b).await,
        "lock_with_timeout_names_holder" => lock_with_timeout_names_holder(b).await,
        "replace_ignores_lineage_and_serial" => replace_ignores_lineage_and_serial(b).await,
        other => Err(format!("no conformance check named `{other}`")),
    }
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)*) => {
        if !$cond {
            return Err(format!($($fmt)*));
        }
    };
}

/// `r` as a string for messages.
fn show<T: fmt::Debug>(r: &Result<T, StateError>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("Err({e:?}: {e})"),
    }
}

fn ok<T>(what: &str, r: Result<T, StateError>) -> Result<T, String> {
    r.map_err(|e| format!("{what} failed: {e}"))
}

/// A state with a couple of realistic resources.
pub fn sample_state(serial: u64) -> State {
    let mut s = State::new("0.0.0-conformance");
    s.serial = serial;
    s.insert(
        "trust.dev",
        ResourceState {
            kind: "trust".into(),
            attributes: json!({
                "account": "222222222222",
                "statement": {
                    "Sid": "XacctTrustDev",
                    "Effect": "Allow",
                    "Principal": { "AWS": "arn:aws:iam::111111111111:role/control-plane" },
                    "Action": "sts:AssumeRole",
                    "Condition": { "StringEquals": { "sts:ExternalId": "ünïcode-✓" } }
                }
            }),
        },
    );
    s.insert(
        "manifest.dev[\"clusters/dev-1.yaml\"]",
        ResourceState { kind: "manifest".into(), attributes: json!({ "edits": [1, 2.5, null, true] }) },
    );
    s
}

async fn expect_stored<B: Backend + ?Sized>(b: &B, want: &State, when: &str) -> CheckResult {
    let got = ok("load", b.load().await)?;
    ensure!(got.as_ref() == Some(want), "{when}: stored state changed: expected {want:?}, loaded {got:?}");
    Ok(())
}

pub async fn empty_load_is_none<B: Backend + ?Sized>(b: &B) -> CheckResult {
    let r = b.load().await;
    ensure!(matches!(r, Ok(None)), "load of empty storage: expected Ok(None), got {}", show(&r));
    Ok(())
}

pub async fn persist_then_load_round_trips<B: Backend + ?Sized>(b: &B) -> CheckResult {
    let s = sample_state(1);
    ok("persist", b.persist(&s).await)?;
    let got = ok("load", b.load().await)?;
    ensure!(got.as_ref() == Some(&s), "expected {s:?}, loaded {got:?}");
    ensure!(got.map(|g| g.format_version) == Some(FORMAT_VERSION), "format_version not current");
    // And once more from empty resources to non-empty and back.
    let mut empty = s.clone();
    empty.serial = 2;
    empty.resources.clear();
    ok("persist", b.persist(&empty).await)?;
    expect_stored(b, &empty, "after persisting an empty state").await
}

pub async fn newer_serial_is_accepted<B: Backend + ?Sized>(b: &B) -> CheckResult {
    let s1 = sample_state(1);
    ok("persist serial 1", b.persist(&s1).await)?;
    let mut s2 = s1.clone();
    s2.serial = 7;
    s2.resources.remove("trust.dev");
    ok("persist serial 7", b.persist(&s2).await)?;
    expect_stored(b, &s2, "after persisting serial 7").await
}

pub async fn stale_serial_is_refused<B: Backend + ?Sized>(b: &B) -> CheckResult {
    let s = sample_state(5);
    ok("persist serial 5", b.persist(&s).await)?;
    for serial in [5, 4, 0] {
        let mut stale = s.clone();
        stale.serial = serial;
        stale.resources.clear();
        let r = b.persist(&stale).await;
        ensure!(
            matches!(r, Err(StateError::StaleSerial { stored: 5, incoming }) if incoming == serial),
            "persist serial {serial} over 5: expected StaleSerial, got {}",
            show(&r)
        );
        expect_stored(b, &s, "after a refused stale write").await?;
    }
    Ok(())
}

pub async fn different_lineage_is_refused<B: Backend + ?Sized>(b: &B) -> CheckResult {
    let s = sample_state(1);
    ok("persist", b.persist(&s).await)?;
    let mut other = sample_state(9);
    ensure!(other.lineage != s.lineage, "State::new produced the same lineage twice");
    other.resources.clear();
    let r = b.persist(&other).await;
    ensure!(
        matches!(&r, Err(StateError::LineageMismatch { stored, incoming }) if *stored == s.lineage && *incoming == other.lineage),
        "persist of another lineage: expected LineageMismatch, got {}",
        show(&r)
    );
    expect_stored(b, &s, "after a refused write of another lineage").await
}

pub async fn lock_is_exclusive_and_names_holder<B: Backend + ?Sized>(b: &B) -> CheckResult {
    let a = LockInfo::new("apply", "0.0.0-conformance");
    let c = LockInfo::new("plan", "0.0.0-conformance");
    ok("first lock", b.lock(&a).await)?;
    for (who, info) in [("second", &c), ("same-ID", &a)] {
        let r = b.lock(info).await;
        ensure!(
            matches!(&r, Err(StateError::Locked(holder)) if *holder == a),
            "{who} lock: expected Locked naming {a:?}, got {}",
            show(&r)
        );
    }
    if let Err(e) = b.lock(&c).await {
        let msg = e.to_string();
        ensure!(
            msg.contains(&a.id) && msg.contains(&format!("xacct force-unlock {}", a.id)),
            "Locked message must name the lock ID and how to force-unlock it: {msg}"
        );
    }
    ok("unlock", b.unlock(&a.id).await)
}

pub async fn unlock_with_wrong_id_is_refused<B: Backend + ?Sized>(b: &B) -> CheckResult {
    let a = LockInfo::new("apply", "0.0.0-conformance");
    ok("lock", b.lock(&a).await)?;
    let r = b.unlock("not-the-id").await;
    ensure!(
        matches!(&r, Err(StateError::LockIdMismatch { given, holder }) if given == "not-the-id" && *holder == a),
        "unlock with a wrong ID: expected LockIdMismatch naming the holder, got {}",
        show(&r)
    );
    let r = b.lock(&LockInfo::new("plan", "0.0.0-conformance")).await;
    ensure!(matches!(r, Err(StateError::Locked(_))), "lock must still be held after a refused unlock: {}", show(&r));
    ok("unlock", b.unlock(&a.id).await)
}

pub async fn unlock_then_lock_again<B: Backend + ?Sized>(b: &B) -> CheckResult {
    for round in 0..3 {
        let info = LockInfo::new("apply", "0.0.0-conformance");
        ok(&format!("lock (round {round})"), b.lock(&info).await)?;
        ok(&format!("unlock (round {round})"), b.unlock(&info.id).await)?;
    }
    Ok(())
}

pub async fn unlock_when_not_locked_is_refused<B: Backend + ?Sized>(b: &B) -> CheckResult {
    let r = b.unlock("some-id").await;
    ensure!(
        matches!(r, Err(StateError::NotLocked { .. })),
        "unlock without a lock: expected NotLocked, got {}",
        show(&r)
    );
    let r = b.force_unlock("some-id").await;
    ensure!(
        matches!(r, Err(StateError::NotLocked { .. })),
        "force-unlock without a lock: expected NotLocked, got {}",
        show(&r)
    );
    Ok(())
}

pub async fn force_unlock_needs_the_holding_id<B: Backend + ?Sized>(b: &B) -> CheckResult {
    // A lock whose holder is gone (as after kill -9): only its ID releases it.
    let stale = LockInfo { pid: 999_999, ..LockInfo::new("apply", "0.0.0-conformance") };
    ok("lock", b.lock(&stale).await)?;
    let r = b.force_unlock("wrong-id").await;
    ensure!(
        matches!(&r, Err(StateError::LockIdMismatch { holder, .. }) if *holder == stale),
        "force-unlock with a wrong ID: expected LockIdMismatch, got {}",
        show(&r)
    );
    let next = LockInfo::new("plan", "0.0.0-conformance");
    let r = b.lock(&next).await;
    ensure!(matches!(r, Err(StateError::Locked(_))), "lock must survive a refused force-unlock: {}", show(&r));
    ok("force-unlock with the holding ID", b.force_unlock(&stale.id).await)?;
    ok("lock after force-unlock", b.lock(&next).await)?;
    ok("unlock", b.unlock(&next.id).await)
}

pub async fn holder_can_read_and_write_while_locked<B: Backend + ?Sized>(b: &B) -> CheckResult {
    let info = LockInfo::new("apply", "0.0.0-conformance");
    ok("lock", b.lock(&info).await)?;
    let s = sample_state(1);
    ok("persist under lock", b.persist(&s).await)?;
    expect_stored(b, &s, "after persisting under lock").await?;
    ok("unlock", b.unlock(&info.id).await)?;
    expect_stored(b, &s, "after unlock").await
}

pub async fn lock_with_timeout_names_holder<B: Backend + ?Sized>(b: &B) -> CheckResult {
    let a = LockInfo::new("apply", "0.0.0-conformance");
    let c = LockInfo::new("plan", "0.0.0-conformance");
    ok("lock", b.lock(&a).await)?;
    let r = lock_with_timeout(b, &c, Duration::from_millis(300)).await;
    ensure!(
        matches!(&r, Err(StateError::LockTimeout { holder, waited }) if *holder == a && *waited >= Duration::from_millis(300)),
        "lock_with_timeout on a held lock: expected LockTimeout naming the holder, got {}",
        show(&r)
    );
    ok("unlock", b.unlock(&a.id).await)?;
    ok("lock_with_timeout on a free lock", lock_with_timeout(b, &c, Duration::from_millis(300)).await)?;
    ok("unlock", b.unlock(&c.id).await)
}

pub async fn replace_ignores_lineage_and_serial<B: Backend + ?Sized>(b: &B) -> CheckResult {
    let s = sample_state(5);
    ok("persist", b.persist(&s).await)?;
    let other = sample_state(1);
    ok("replace with another lineage and a lower serial", b.replace(&other).await)?;
    expect_stored(b, &other, "after replace").await
}
