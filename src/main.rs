//! The `hardnode` binary: parse the command line, run it, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = <hardnode::cli::Cli as clap::Parser>::parse();
    hardnode::cli::run(cli)
}
