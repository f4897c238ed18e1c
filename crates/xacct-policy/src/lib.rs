//! xacct-policy (work in progress).
