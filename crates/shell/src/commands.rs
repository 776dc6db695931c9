//! The dot commands: lines starting with `.`, read by the shell itself rather than as SQL.

use std::path::PathBuf;

use ctq_sql::output::OutputFormat;

use crate::ShellError;

/// Each dot command with what `.help` says of it.
pub const DOT_COMMANDS: [(&str, &str); 12] = [
    (".help", "this list"),
    (".tables", "the tables and views"),
    (
        ".schema",
        "[TABLE]  the columns of TABLE (cloudtrail when left out) and their types",
    ),
    (
        ".queries",
        "the saved queries, their purpose and parameters",
    ),
    (".run", "NAME [--param NAME=VALUE]...  run a saved query"),
    (".read", "FILE  run the statements and dot commands of FILE"),
    (".format", "table|csv|json|ndjson  how results are printed"),
    (
        ".output",
        "[FILE]  write results to FILE (replaced), or to standard output again",
    ),
    (
        ".timer",
        "on|off  print how long each statement took and how many files it read",
    ),
    (".quit", "leave the shell"),
    (".exit", "leave the shell"),
    (".cache", "how much of the trail is held in memory"),
];

/// One parsed dot command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DotCommand {
    Help,
    Tables,
    Schema(Option<String>),
    Queries,
    Run {
        name: String,
        params: Vec<(String, String)>,
    },
    Read(PathBuf),
    Format(OutputFormat),
    Output(Option<PathBuf>),
    Timer(bool),
    Cache,
    Quit,
}

impl DotCommand {
    /// Reads a line that starts with `.`.
    pub fn parse(line: &str) -> Result<Self, ShellError> {
        let mut words = line.split_whitespace();
        let command = words.next().unwrap_or_default();
        let rest: Vec<&str> = words.collect();
        let usage = || ShellError::DotUsage {
            command: command.to_string(),
            usage: DOT_COMMANDS
                .iter()
                .find(|(name, _)| *name == command)
                .map_or_else(String::new, |(_, help)| (*help).to_string()),
        };
        let no_argument = |command: DotCommand| {
            if rest.is_empty() {
                Ok(command)
            } else {
                Err(usage())
            }
        };
        match command {
            ".help" => no_argument(DotCommand::Help),
            ".tables" => no_argument(DotCommand::Tables),
            ".queries" => no_argument(DotCommand::Queries),
            ".cache" => no_argument(DotCommand::Cache),
            ".quit" | ".exit" => no_argument(DotCommand::Quit),
            ".schema" => match rest.as_slice() {
                [] => Ok(DotCommand::Schema(None)),
                [table] => Ok(DotCommand::Schema(Some((*table).to_string()))),
                _ => Err(usage()),
            },
            ".read" => match rest.as_slice() {
                [file] => Ok(DotCommand::Read(PathBuf::from(file))),
                _ => Err(usage()),
            },
            ".output" => match rest.as_slice() {
                [] => Ok(DotCommand::Output(None)),
                [file] => Ok(DotCommand::Output(Some(PathBuf::from(file)))),
                _ => Err(usage()),
            },
            ".timer" => match rest.as_slice() {
                ["on"] => Ok(DotCommand::Timer(true)),
                ["off"] => Ok(DotCommand::Timer(false)),
                _ => Err(usage()),
            },
            ".format" => match rest.as_slice() {
                ["table"] => Ok(DotCommand::Format(OutputFormat::Table)),
                ["csv"] => Ok(DotCommand::Format(OutputFormat::Csv)),
                ["json"] => Ok(DotCommand::Format(OutputFormat::Json)),
                ["ndjson"] => Ok(DotCommand::Format(OutputFormat::Ndjson)),
                _ => Err(usage()),
            },
            ".run" => {
                let Some((name, args)) = rest.split_first() else {
                    return Err(usage());
                };
                let mut params = Vec::new();
                let mut args = args.iter();
                while let Some(arg) = args.next() {
                    let pair = match *arg {
                        "--param" | "-p" => args.next().ok_or_else(usage)?,
                        other => other.strip_prefix("--param=").ok_or_else(usage)?,
                    };
                    let (key, value) = pair.split_once('=').ok_or_else(usage)?;
                    params.push((key.trim_start_matches('$').to_string(), value.to_string()));
                }
                Ok(DotCommand::Run {
                    name: (*name).to_string(),
                    params,
                })
            }
            _ => Err(ShellError::UnknownDotCommand {
                command: command.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_commands_read_their_arguments() {
        assert_eq!(
            DotCommand::parse(".run access-denied --param arn=a:b --param=$from=2019-10-29")
                .unwrap(),
            DotCommand::Run {
                name: "access-denied".into(),
                params: vec![
                    ("arn".into(), "a:b".into()),
                    ("from".into(), "2019-10-29".into())
                ],
            }
        );
        assert_eq!(
            DotCommand::parse(".format csv").unwrap(),
            DotCommand::Format(OutputFormat::Csv)
        );
        assert_eq!(
            DotCommand::parse(".output").unwrap(),
            DotCommand::Output(None)
        );
        assert_eq!(
            DotCommand::parse("  .timer on").unwrap(),
            DotCommand::Timer(true)
        );
    }

    #[test]
    fn a_wrong_dot_command_says_how_to_write_it() {
        let error = DotCommand::parse(".format xml").unwrap_err().to_string();
        assert!(error.contains("table|csv|json|ndjson"), "{error}");
        let error = DotCommand::parse(".run q --param novalue")
            .unwrap_err()
            .to_string();
        assert!(error.contains("NAME [--param"), "{error}");
        let error = DotCommand::parse(".frobnicate").unwrap_err().to_string();
        assert!(error.contains(".help"), "{error}");
    }
}
