//! Shared by the conformance tests: reading a CloudFormation template of IAM resources and a
//! rendered resource set into one comparable shape.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub use xacct_test_support::capa_fixtures::{differences, from_cloudformation, from_set};

/// `env` if set, else `default` relative to this crate.
pub fn dir_from_env(env: &str, default: &str) -> PathBuf {
    match std::env::var_os(env) {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(default),
    }
}
