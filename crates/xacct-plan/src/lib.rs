//! xacct-plan: the resource graph, the three-way diff, the plan model and plan file, and the
//! [`Cloud`](cloud::Cloud) interface that live IAM is read and written through.
pub mod cloud;
