//! `hardnode completions SHELL` and `hardnode man`: shell completions and the man page, generated
//! from the same clap definitions that parse the command line, so they never drift from it.

use std::io;

use clap::{Args, CommandFactory, ValueEnum};

use super::{Cli, Error};
use crate::error::EXIT_OK;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

impl From<Shell> for clap_complete::Shell {
    fn from(shell: Shell) -> Self {
        match shell {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
            Shell::Elvish => clap_complete::Shell::Elvish,
            Shell::Powershell => clap_complete::Shell::PowerShell,
        }
    }
}

pub(super) fn completions(args: &CompletionsArgs) -> Result<u8, Error> {
    let mut command = Cli::command();
    super::print("completions", |buffer| {
        clap_complete::generate(
            clap_complete::Shell::from(args.shell),
            &mut command,
            "hardnode",
            buffer,
        );
        Ok(())
    })?;
    Ok(EXIT_OK)
}

/// The man page (roff) of hardnode and every subcommand, one after the other in one page.
pub(super) fn man() -> Result<u8, Error> {
    let command = Cli::command();
    super::print("man page", |buffer| render_man(&command, buffer))?;
    Ok(EXIT_OK)
}

fn render_man(command: &clap::Command, out: &mut Vec<u8>) -> io::Result<()> {
    let top = clap_mangen::Man::new(command.clone());
    top.render_title(out)?;
    top.render_name_section(out)?;
    top.render_synopsis_section(out)?;
    top.render_description_section(out)?;
    top.render_options_section(out)?;
    top.render_subcommands_section(out)?;
    // Each subcommand's own options, as a section of the same page (`man hardnode` is the one
    // page an operator looks for).
    for sub in command.get_subcommands() {
        render_sub(&format!("hardnode {}", sub.get_name()), sub, out)?;
    }
    top.render_extra_section(out)?;
    top.render_version_section(out)?;
    top.render_authors_section(out)
}

fn render_sub(path: &str, command: &clap::Command, out: &mut Vec<u8>) -> io::Result<()> {
    let mut roff = clap_mangen::roff::Roff::new();
    roff.control("SH", [path.to_uppercase().as_str()]);
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        roff.text([clap_mangen::roff::roman(about.to_string())]);
    }
    roff.to_writer(&mut *out)?;
    let page = clap_mangen::Man::new(command.clone());
    let mut options = Vec::new();
    page.render_options_section(&mut options)?;
    // Demote the subcommand's OPTIONS heading to a subsection of its section.
    let options = String::from_utf8_lossy(&options).replacen(".SH OPTIONS", ".SS Options", 1);
    out.extend_from_slice(options.as_bytes());
    for sub in command.get_subcommands() {
        render_sub(&format!("{path} {}", sub.get_name()), sub, out)?;
    }
    Ok(())
}
