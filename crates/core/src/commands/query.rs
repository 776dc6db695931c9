//! `ctq query`: SQL from the command line or a file, with bound parameters.

use anyhow::Context;

use crate::args::QueryArgs;
use crate::commands::{Outcome, run_query};
use crate::paths::check_output;

pub async fn run(args: QueryArgs) -> anyhow::Result<Outcome> {
    check_output("--output", args.output.output.as_deref(), &args.source)?;
    let bundled = args.sql.as_deref().and_then(bundled_query);
    let sql = match (&args.sql, &args.file) {
        (Some(sql), _) => bundled
            .as_ref()
            .map_or_else(|| sql.clone(), |q| q.sql.clone()),
        (None, Some(file)) if file.as_os_str() == "-" => std::io::read_to_string(std::io::stdin())
            .context("cannot read the query from standard input")?,
        (None, Some(file)) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read query file {}", file.display()))?,
        (None, None) => anyhow::bail!("give the SQL to run, or --file with a saved query"),
    };
    run_query(&args.source, &sql, &args.params, &args.output)
        .await
        .with_context(|| match (&args.file, &bundled) {
            (Some(file), _) => format!("query {} failed", file.display()),
            (None, Some(saved)) => format!("saved query {} failed", saved.name),
            (None, None) => "query failed".to_string(),
        })
}

/// The bundled saved query `text` names, when it is a name (`access-denied`) and no file of that
/// name is here: SQL text and file paths keep their meaning.
fn bundled_query(text: &str) -> Option<ctq_sql::saved::SavedQuery> {
    let is_name = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !is_name || std::path::Path::new(text).exists() {
        return None;
    }
    ctq_sql::saved::bundled()
        .into_iter()
        .find(|q| q.name == text)
}
