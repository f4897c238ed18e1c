//! `xacct state …` and `xacct force-unlock`.

use anyhow::Context as _;

use super::context::{runtime, Context};
use crate::args::{ForceUnlockArgs, Global, StateArgs, StateCommand};
use crate::{Outcome, Printer};

pub fn run(global: &Global, args: &StateArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let cx = Context::new(global, &args.live, printer).await?;
        match &args.command {
            StateCommand::List => match cx.load_state().await? {
                Some(s) if !s.resources.is_empty() => {
                    printer.out(&s.resources.keys().cloned().collect::<Vec<_>>().join("\n"))
                }
                Some(_) => printer.status(&format!("The state in {} holds no resources.", cx.backend.describe())),
                None => printer
                    .status(&format!("There is no state yet in {}: nothing has been applied.", cx.backend.describe())),
            },
            StateCommand::Show { address } => {
                let s = cx.load_state().await?.context("there is no state yet")?;
                let r = s.show(address)?;
                printer.out(&serde_json::to_string_pretty(&r.attributes)?);
            }
            StateCommand::Pull => {
                let s = cx.load_state().await?.context("there is no state yet")?;
                printer.out(&String::from_utf8_lossy(&xacct_state::encode(&s)));
            }
            StateCommand::Rm { address } => {
                let lock = cx.lock("state rm", args.lock.lock_timeout).await?;
                let r = async {
                    let mut s = cx.load_state().await?.context("there is no state yet")?;
                    s.remove(address)?;
                    xacct_state::commit(cx.backend.as_ref(), &mut s, env!("CARGO_PKG_VERSION")).await?;
                    printer.status(&format!("Removed {address} from state (nothing live was touched)."));
                    anyhow::Ok(())
                }
                .await;
                lock.release().await?;
                r?;
            }
            StateCommand::Push { document: file, force } => {
                let bytes = std::fs::read(file).with_context(|| format!("cannot read `{}`", file.display()))?;
                let incoming = xacct_state::decode_from(&file.display().to_string(), &bytes)?;
                let lock = cx.lock("state push", args.lock.lock_timeout).await?;
                let r = async {
                    let current = cx.load_state().await?;
                    let out = xacct_state::prepare_push(current.as_ref(), &incoming, *force)?;
                    cx.backend.replace(&out).await?;
                    printer.status(&format!("Pushed state serial {} to {}.", out.serial, cx.backend.describe()));
                    anyhow::Ok(())
                }
                .await;
                lock.release().await?;
                r?;
            }
        }
        Ok(Outcome::Success)
    })
}

pub fn force_unlock(global: &Global, args: &ForceUnlockArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let cx = Context::new(global, &args.live, printer).await?;
        cx.backend.force_unlock(&args.id).await?;
        printer.status(&format!("Released lock {} on {}.", args.id, cx.backend.describe()));
        Ok(Outcome::Success)
    })
}
