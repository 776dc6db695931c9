//! `ctq shell`: SQL over a trail, one statement after another, in one session.
//!
//! This crate owns the shell: reading statements (several per line, or one over several lines,
//! each ending in `;`: [`split`]), the dot commands (`.help`, `.schema`, `.run NAME`, ...:
//! [`commands`]), the line editor with its history and completion of table, column, function and
//! saved-query names ([`complete`]), and holding the trail in memory so that every query after the
//! first costs only DataFusion's work ([`ctq_sql::TrailSession::cache_in_memory`]).
//!
//! It does not open sessions or parse the command line (the `ctq` binary does), nor plan, run or
//! format queries (`ctq-sql` does).

pub mod commands;
pub mod complete;
pub mod split;

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use ctq_ingest::Progress;
use ctq_sql::arrow::datatypes::DataType;
use ctq_sql::output::{OutputFormat, printable, write_results};
use ctq_sql::saved::SavedQuery;
use ctq_sql::{CacheOutcome, SqlError, TrailSession};

use crate::commands::{DOT_COMMANDS, DotCommand};
use crate::complete::{Names, ShellCompleter};
use crate::split::StatementBuffer;

/// What can go wrong in the shell.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error("{command} takes: {command} {usage}")]
    DotUsage { command: String, usage: String },
    #[error("there is no dot command {command}; .help lists them")]
    UnknownDotCommand { command: String },
    #[error("there is no table {name}; .tables lists them")]
    UnknownTable { name: String },
    #[error("there is no saved query {name}; .queries lists them ({known})")]
    UnknownSavedQuery { name: String, known: String },
    #[error("saved query {name} needs {}; add --param NAME=VALUE for each", missing.join(", "))]
    MissingParameters { name: String, missing: Vec<String> },
    #[error("cannot {action} {}", path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write results")]
    Write(#[source] std::io::Error),
    #[error("line editor failed")]
    Editor(#[source] rustyline::error::ReadlineError),
    /// A statement of a script or of piped input failed: the rest is not run.
    #[error("the statement on line {line} of {origin} failed")]
    Statement {
        origin: String,
        line: usize,
        #[source]
        source: Box<ShellError>,
    },
}

/// How the shell starts.
#[derive(Debug, Clone)]
pub struct ShellOptions {
    pub format: OutputFormat,
    /// Most bytes the trail may take in memory; 0 reads the trail on every query.
    pub memory_limit_bytes: usize,
}

/// Whether the shell goes on after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// A session, the shell's settings, and where results go.
pub struct Shell {
    session: TrailSession,
    progress: Arc<Progress>,
    format: OutputFormat,
    timer: bool,
    output: Option<(PathBuf, std::fs::File)>,
    stdout: std::io::Stdout,
    saved: Vec<SavedQuery>,
    cache: Option<CacheOutcome>,
}

impl Shell {
    /// Takes over `session`, whose scans count their files in `progress`, and reads the trail
    /// into memory within the budget.
    pub async fn start(
        mut session: TrailSession,
        progress: Arc<Progress>,
        options: &ShellOptions,
    ) -> Result<Self, ShellError> {
        let cache = if options.memory_limit_bytes > 0 {
            Some(session.cache_in_memory(options.memory_limit_bytes).await?)
        } else {
            None
        };
        Ok(Self {
            session,
            progress,
            format: options.format,
            timer: false,
            output: None,
            stdout: std::io::stdout(),
            saved: ctq_sql::saved::bundled(),
            cache,
        })
    }

    pub fn session(&self) -> &TrailSession {
        &self.session
    }

    /// What holding the trail in memory came to, in a sentence.
    pub fn cache_summary(&self) -> String {
        match self.cache {
            None => "the trail is read on every query (no memory budget)".to_string(),
            Some(CacheOutcome::Cached { rows, bytes, files }) => format!(
                "{rows} records{} held in memory ({:.1} MiB); queries read them, not the trail",
                if self.session.store().is_some() {
                    " of the store".to_string()
                } else {
                    format!(" of {files} files")
                },
                bytes as f64 / (1024.0 * 1024.0)
            ),
            Some(CacheOutcome::OverBudget { budget_bytes }) => format!(
                "the trail takes more than the memory budget of {} MiB, so each query reads the trail",
                budget_bytes / (1024 * 1024)
            ),
        }
    }

    /// Runs the statements and dot commands of `text` in order, and stops at the first that
    /// fails, naming its line in `origin`.
    pub async fn run_script(&mut self, text: &str, origin: &str) -> Result<Flow, ShellError> {
        let mut buffer = StatementBuffer::default();
        let failed = |line: usize, source: ShellError| ShellError::Statement {
            origin: origin.to_string(),
            line,
            source: Box::new(source),
        };
        for (number, line) in text.lines().enumerate() {
            if buffer.is_empty() && line.trim_start().starts_with('.') {
                buffer.skip_line();
                match Box::pin(self.dot_command(line)).await {
                    Ok(Flow::Quit) => return Ok(Flow::Quit),
                    Ok(Flow::Continue) => continue,
                    Err(e) => return Err(failed(number + 1, e)),
                }
            }
            for (start, statement) in buffer.push_line(line) {
                self.statement(&statement)
                    .await
                    .map_err(|e| failed(start, e))?;
            }
        }
        if let Some((start, statement)) = buffer.finish() {
            self.statement(&statement)
                .await
                .map_err(|e| failed(start, e))?;
        }
        Ok(Flow::Continue)
    }

    /// Reads lines from the terminal until `.quit` or end of input, with `history` (a file,
    /// created when missing) and completion. A failed statement is reported and the shell goes on.
    pub async fn run_interactive(&mut self, history: Option<&Path>) -> Result<(), ShellError> {
        let mut editor =
            rustyline::Editor::<ShellCompleter, rustyline::history::DefaultHistory>::new()
                .map_err(ShellError::Editor)?;
        editor.set_helper(Some(ShellCompleter {
            names: self.names().await,
        }));
        if let Some(history) = history {
            if let Some(parent) = history.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            // A first run has no history yet.
            let _ = editor.load_history(history);
        }
        println!("ctq shell: SQL ending in ;, or .help");
        let mut buffer = StatementBuffer::default();
        let mut pending = String::new();
        loop {
            let prompt = if buffer.is_empty() { "ctq> " } else { "...> " };
            let line = match tokio::task::block_in_place(|| editor.readline(prompt)) {
                Ok(line) => line,
                Err(rustyline::error::ReadlineError::Interrupted) => {
                    buffer = StatementBuffer::default();
                    pending.clear();
                    continue;
                }
                Err(rustyline::error::ReadlineError::Eof) => break,
                Err(e) => return Err(ShellError::Editor(e)),
            };
            let outcome = if buffer.is_empty() && line.trim_start().starts_with('.') {
                let _ = editor.add_history_entry(line.trim());
                Box::pin(self.dot_command(&line)).await
            } else {
                pending.push_str(&line);
                pending.push('\n');
                let mut outcome = Ok(Flow::Continue);
                for (_, statement) in buffer.push_line(&line) {
                    outcome = self.statement(&statement).await.map(|()| Flow::Continue);
                    if outcome.is_err() {
                        break;
                    }
                }
                if buffer.is_empty() {
                    let _ = editor.add_history_entry(pending.trim());
                    pending.clear();
                }
                outcome
            };
            match outcome {
                Ok(Flow::Quit) => break,
                Ok(Flow::Continue) => {}
                Err(e) => eprintln!("ctq: error: {}", error_chain(&e)),
            }
            if let Some(helper) = editor.helper_mut() {
                helper.names = self.names().await;
            }
        }
        if let Some(history) = history
            && let Err(e) = editor.save_history(history)
        {
            eprintln!(
                "ctq: warning: cannot save the shell's history to {}: {e}",
                history.display()
            );
        }
        Ok(())
    }

    /// The names to complete: the session's tables and views, their columns, the functions, the
    /// saved queries.
    pub async fn names(&self) -> Names {
        let tables = self.session.table_names();
        let mut columns = Vec::new();
        for table in &tables {
            let Some(schema) = self.session.table_schema(table).await else {
                continue;
            };
            for field in schema.fields() {
                // Fields of a struct column, as a query reaches them: useridentity.arn.
                if let DataType::Struct(children) = field.data_type() {
                    columns.extend(
                        children
                            .iter()
                            .map(|child| format!("{}.{}", field.name(), child.name())),
                    );
                }
                columns.push(field.name().clone());
            }
        }
        columns.sort();
        columns.dedup();
        Names {
            tables,
            columns,
            functions: self.session.function_names(),
            saved_queries: self.saved.iter().map(|q| q.name.clone()).collect(),
        }
    }

    /// Runs one SQL statement and writes its rows, if it has any.
    async fn statement(&mut self, sql: &str) -> Result<(), ShellError> {
        self.timed(async |shell: &mut Self| shell.session.query(sql, &[]).await)
            .await
    }

    /// Runs `run`, writes its rows, and with the timer on says how long it took and how many
    /// files it decoded.
    async fn timed(
        &mut self,
        run: impl AsyncFnOnce(&mut Self) -> Result<ctq_sql::QueryResult, SqlError>,
    ) -> Result<(), ShellError> {
        let started = Instant::now();
        let files_before = self.progress.files_done.load(Ordering::Relaxed);
        let result = run(self).await?;
        // A statement without columns (CREATE VIEW) has nothing to print.
        if !result.columns.is_empty() {
            let format = self.format;
            let out = self.out();
            write_results(out, format, &result.columns, &result.batches)?;
            out.flush().map_err(ShellError::Write)?;
        }
        if self.timer {
            let files = self.progress.files_done.load(Ordering::Relaxed) - files_before;
            let rows = result.row_count();
            eprintln!(
                "Run time: {:.3} s, {rows} {}, {files} files decoded",
                started.elapsed().as_secs_f64(),
                if rows == 1 { "row" } else { "rows" }
            );
        }
        Ok(())
    }

    /// Where results go: the `.output` file, or standard output.
    fn out(&mut self) -> &mut dyn Write {
        match &mut self.output {
            Some((_, file)) => file,
            None => &mut self.stdout,
        }
    }

    async fn dot_command(&mut self, line: &str) -> Result<Flow, ShellError> {
        match DotCommand::parse(line)? {
            DotCommand::Quit => return Ok(Flow::Quit),
            DotCommand::Help => {
                let mut text = String::new();
                for (name, help) in DOT_COMMANDS {
                    let _ = writeln!(text, "{name} {help}");
                }
                text.push_str("SQL statements end with ;. The trail is the table cloudtrail; CREATE VIEW names a query for the rest of the session.\n");
                self.print(&text)?;
            }
            DotCommand::Tables => {
                let mut text = self.session.table_names().join("\n");
                text.push('\n');
                self.print(&text)?;
            }
            DotCommand::Schema(table) => {
                let table = table.unwrap_or_else(|| ctq_sql::TABLE_NAMES[0].to_string());
                let Some(schema) = self.session.table_schema(&table).await else {
                    return Err(ShellError::UnknownTable { name: table });
                };
                let columns: Vec<(String, String)> = schema
                    .fields()
                    .iter()
                    .map(|f| (f.name().clone(), f.data_type().to_string()))
                    .collect();
                let width = columns.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
                let mut text = String::new();
                for (column, ty) in &columns {
                    let _ = writeln!(text, "{column:width$}  {ty}");
                }
                self.print(&text)?;
            }
            DotCommand::Queries => {
                let mut text = String::new();
                for query in &self.saved {
                    let parameters = self.session.parameters(&query.sql).await?;
                    let _ = writeln!(
                        text,
                        "{}  ({})\n    {}",
                        query.name,
                        describe_parameters(&parameters),
                        query.title()
                    );
                }
                self.print(&text)?;
            }
            DotCommand::Run { name, params } => {
                let Some(query) = self.saved.iter().find(|q| q.name == name).cloned() else {
                    return Err(ShellError::UnknownSavedQuery {
                        name,
                        known: self
                            .saved
                            .iter()
                            .map(|q| q.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                };
                let needed = self.session.parameters(&query.sql).await?;
                let params = ctq_sql::saved::bind(&needed, None, &params)
                    .map_err(|missing| ShellError::MissingParameters { name, missing })?;
                self.timed(async |shell: &mut Self| shell.session.query(&query.sql, &params).await)
                    .await?;
            }
            DotCommand::Read(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ShellError::File {
                    action: "read",
                    path: path.clone(),
                    source,
                })?;
                return self.run_script(&text, &path.display().to_string()).await;
            }
            DotCommand::Format(format) => self.format = format,
            DotCommand::Output(None) => self.output = None,
            DotCommand::Output(Some(path)) => {
                let file = std::fs::File::create(&path).map_err(|source| ShellError::File {
                    action: "write results to",
                    path: path.clone(),
                    source,
                })?;
                self.output = Some((path, file));
            }
            DotCommand::Timer(on) => self.timer = on,
            DotCommand::Cache => {
                let text = format!("{}\n", self.cache_summary());
                self.print(&text)?;
            }
        }
        Ok(Flow::Continue)
    }

    /// Writes a dot command's answer where results go.
    fn print(&mut self, text: &str) -> Result<(), ShellError> {
        let out = self.out();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(ShellError::Write)
    }
}

/// `$a, $b`, or that there are none.
pub fn describe_parameters(names: &[String]) -> String {
    if names.is_empty() {
        "no parameters".to_string()
    } else {
        names
            .iter()
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The `$name` placeholders of `sql` outside quotes and comments, sorted, without the `$`.
pub fn placeholders(sql: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
            }
            '$' => {
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if !(n.is_ascii_alphanumeric() || n == '_') {
                        break;
                    }
                    name.push(n);
                    chars.next();
                }
                if !name.is_empty() {
                    names.push(name);
                }
            }
            _ => {}
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Where the shell keeps its history: `$XDG_DATA_HOME/ctq/history`, else
/// `~/.local/share/ctq/history`; nowhere without either.
pub fn history_path(xdg_data_home: Option<OsString>, home: Option<OsString>) -> Option<PathBuf> {
    let data = xdg_data_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".local/share"))
        })?;
    Some(data.join("ctq").join("history"))
}

/// Whether standard input is a person at a terminal, rather than a pipe or a file.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// An error and each of its causes, as one line safe for a terminal.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    printable(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_outside_quotes_and_comments_are_the_parameters() {
        assert_eq!(
            placeholders(
                "-- $not\nSELECT '$no', \"$nor\" FROM t WHERE a = $to AND b > $from AND c < $to"
            ),
            ["from", "to"]
        );
        for query in ctq_sql::saved::bundled() {
            assert!(
                placeholders(&query.sql).contains(&"from".to_string()),
                "{}",
                query.name
            );
        }
    }

    #[test]
    fn history_lives_in_the_data_folder() {
        assert_eq!(
            history_path(Some("/data".into()), Some("/home/a".into())),
            Some(PathBuf::from("/data/ctq/history"))
        );
        // A relative XDG_DATA_HOME is invalid by the specification, and ignored.
        assert_eq!(
            history_path(Some("rel".into()), Some("/home/a".into())),
            Some(PathBuf::from("/home/a/.local/share/ctq/history"))
        );
        assert_eq!(history_path(None, None), None);
    }
}
