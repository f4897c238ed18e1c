//! xacct-test-support (work in progress).
