//! xacct-aws (work in progress).
