//! xacct-render (work in progress).
