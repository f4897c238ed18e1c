//! xacct-spec (work in progress).
