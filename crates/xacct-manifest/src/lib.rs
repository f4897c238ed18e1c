//! xacct-manifest (work in progress).
