//! The `xacct` binary: everything lives in `xacct-cli`; this only maps its result to an exit code.

fn main() -> std::process::ExitCode {
    xacct_cli::main()
}
