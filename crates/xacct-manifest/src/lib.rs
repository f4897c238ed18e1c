//! Lossless edits of Cluster API Provider AWS (CAPA) cluster manifests.
//!
//! This crate owns the manifest side of cross-account trust: it finds the objects that carry an
//! identity (`AWSCluster.spec.identityRef`, `AWSClusterTemplate.spec.template.spec.identityRef`,
//! `AWSManagedControlPlane.spec.identityRef`, `AWSManagedControlPlaneTemplate.spec.template.spec.identityRef`,
//! `spec.identityRef` of `ROSAControlPlane`, `ROSANetwork` and `ROSARoleConfig`, and the
//! `identityRef` variable of a ClusterClass `Cluster`), points them at an
//! `AWSClusterRoleIdentity`, and adds or updates that identity document. For ClusterClass it
//! works out which identity each topology `Cluster` ends up with (its variable, else its
//! class's template, else the controller default) and says so in warnings. It works on the text: every byte outside the edited nodes (comments, quoting, key
//! order, blank lines, `---`/`...` markers, CRLF line endings, block scalars) stays as it was,
//! new text follows the file's indentation and line endings, patching twice changes nothing the
//! second time, and [`unpatch`] with the returned [`PatchRecord`] gives back the original bytes.
//!
//! It must not: re-serialise a document, talk to AWS or Kubernetes, print, or write a file other
//! than through [`write_atomic`]. Deciding which identity a file should get (and the default
//! `allowedNamespaces`, see [`Manifest::namespaces`]) is the caller's job.
//!
//! ```
//! use std::path::Path;
//! use xacct_manifest::{patch, unpatch, AllowedNamespaces, IdentitySpec, Manifest};
//!
//! let text = "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSCluster\n\
//!             metadata:\n  name: dev-1\nspec:\n  region: us-west-2 # keep me\n";
//! let m = Manifest::parse(Path::new("dev-1.yaml"), text)?;
//! let spec = IdentitySpec {
//!     name: "dev-account-role".into(),
//!     role_arn: "arn:aws:iam::222222222222:role/control-plane.cluster-api-provider-aws.sigs.k8s.io".into(),
//!     allowed_namespaces: AllowedNamespaces::List(m.namespaces().into_iter().collect()),
//!     external_id: None,
//!     duration_seconds: None,
//!     session_name: None,
//! };
//! let patched = patch(&m, &spec)?;
//! assert!(patched.changed);
//! assert!(patched.text.contains("  identityRef:\n    kind: AWSClusterRoleIdentity\n    name: dev-account-role\n  region: us-west-2 # keep me\n"));
//! assert!(patched.text.contains("\n---\napiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSClusterRoleIdentity\n"));
//! assert_eq!(unpatch(&patched.text, &patched.record)?, text);
//! # Ok::<(), xacct_manifest::ManifestError>(())
//! ```

mod error;
mod io;
mod manifest;
mod model;
mod patch;
mod record;
mod render;
mod splice;
mod text;
mod topology;
mod tree;
mod validate;

pub use error::{Diagnostic, ManifestError};
pub use io::{unified_diff, write_atomic};
pub use manifest::Manifest;
pub use model::{AllowedNamespaces, IdentityRef, IdentitySpec, Target, TargetKind};
pub use patch::{identity_document, patch, patch_file, Patched};
pub use record::{unpatch, ObjectRef, PatchRecord, PatchStep, RecordedEdit, RECORD_FORMAT_VERSION};
