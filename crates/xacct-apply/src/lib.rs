//! xacct-apply (work in progress).
