//! xacct-test-support: what integration tests need to talk to a real AWS emulator.
//!
//! It owns three things, all dev-only: the process-wide [moto](https://github.com/getmoto/moto)
//! server ([`moto()`]), helpers that arrange and inspect IAM in random emulated accounts
//! ([`Moto`]), and a [`FaultProxy`] that injects throttling, 5xx, connection resets and delay
//! between a client and the emulator. It must never be a normal dependency of a shipped crate,
//! and it never sets `MOTO_ACCOUNT_ID` (that would force every request into one account).
//!
//! The environment contract: when `XACCT_TEST_MOTO_URL` is set, tests use that server;
//! otherwise the first call to [`moto()`] starts `moto_server` on a free loopback port (found on
//! `PATH`, else in `<workspace>/target/moto-venv`, installed there with pip when missing), waits
//! until it answers, and kills it when the test process exits.
//!
//! ```no_run
//! # async fn example() {
//! let moto = xacct_test_support::moto();
//! let account = moto.fresh_account();
//! let arn = moto.create_role(&account, "r", xacct_test_support::EC2_TRUST).await;
//! assert!(arn.contains(&account));
//! let trust = moto.trust_of(&account, "r").await.unwrap(); // decoded JSON text
//! # let _ = trust;
//! # }
//! ```

pub mod capa_fixtures;
mod fault;
mod moto;
pub mod org;
mod server;

pub use fault::{FaultConfig, FaultCounts, FaultKind, FaultProxy};
pub use moto::{
    decode_document, moto, partition_region, static_credentials, Moto, ACCESS_ROLE, DEFAULT_ACCOUNT, EC2_TRUST,
};
pub use server::{workspace_root, MOTO_URL_ENV};
