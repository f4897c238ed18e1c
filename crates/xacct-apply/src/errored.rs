//! Where state goes when the backend refuses a checkpoint mid-apply: a local file the user pushes
//! back once the cause is fixed (Terraform's `errored.tfstate`).

use std::path::{Path, PathBuf};

use xacct_state::{Backend, LocalBackend, State, StateError};

/// The name of the file [`save_errored_state`] writes (`errored.xacct-state.N.json` when it is
/// taken).
pub const ERRORED_STATE_FILE: &str = "errored.xacct-state.json";

/// Save `state`, as [`apply`](crate::apply) returned it after a refused checkpoint, to a new file
/// in `dir`: [`ERRORED_STATE_FILE`], or `errored.xacct-state.N.json` (N = 1, 2, …) when that
/// exists, so an earlier one not pushed back yet is never overwritten. Its serial is one past the
/// last checkpoint the backend took, so `xacct state push FILE` accepts it as long as nobody else
/// wrote state since. It is written the way the local backend writes state: atomically (temp
/// file, fsync, rename), mode 0600, refused if anything in it looks like a credential.
///
/// Returns the file and the state written to it.
pub async fn save_errored_state(
    state: &State,
    dir: &Path,
    xacct_version: &str,
) -> Result<(PathBuf, State), StateError> {
    let mut out = state.clone();
    out.bump(xacct_version);
    for n in 0..1000u32 {
        let name = if n == 0 { ERRORED_STATE_FILE.to_string() } else { format!("errored.xacct-state.{n}.json") };
        let path = dir.join(name);
        if path.symlink_metadata().is_ok() {
            continue;
        }
        LocalBackend::new(&path).persist(&out).await?;
        return Ok((path, out));
    }
    Err(StateError::Other(format!("`{}` already holds 1000 errored state files; push or remove them", dir.display())))
}
