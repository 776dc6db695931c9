//! `ctq man`: ctq's manual page, roff on standard output, with a section per subcommand.

use std::io::Write;

use clap::CommandFactory;

use crate::args::Cli;

pub fn run() -> anyhow::Result<super::Outcome> {
    let command = Cli::command();
    let mut page = Vec::new();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    // clap_mangen's own subcommand section names them only; each one's options matter as much.
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        writeln!(page, ".SH \"CTQ {}\"", sub.get_name().to_uppercase())?;
        let sub_man =
            clap_mangen::Man::new(sub.clone().bin_name(format!("ctq {}", sub.get_name())));
        sub_man.render_description_section(&mut page)?;
        sub_man.render_synopsis_section(&mut page)?;
        sub_man.render_options_section(&mut page)?;
    }
    man.render_version_section(&mut page)?;
    man.render_extra_section(&mut page)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&page)?;
    stdout.flush()?;
    Ok(super::Outcome::Clean)
}
