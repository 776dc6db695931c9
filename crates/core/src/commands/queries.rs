//! `ctq queries`: the saved queries built into ctq, what each is for and the parameters it takes.

use std::io::Write;

use crate::commands::Outcome;

/// Written with `?`, not `println!`: a reader that goes away (`| head`) ends the run quietly.
pub fn run() -> anyhow::Result<Outcome> {
    let mut queries = ctq_sql::saved::bundled();
    queries.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = std::io::stdout().lock();
    for query in &queries {
        writeln!(
            out,
            "{}  ({})\n    {}",
            query.name,
            ctq_shell::describe_parameters(&ctq_shell::placeholders(&query.sql)),
            query.title()
        )?;
    }
    writeln!(
        out,
        "\nRun one with `ctq query NAME --source TRAIL --param NAME=VALUE ...`."
    )?;
    Ok(Outcome::Clean)
}
