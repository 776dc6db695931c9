//! `ctq queries`: the saved queries and hunting rules built into ctq, what each is for and the
//! parameters or thresholds it takes.

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
    writeln!(out, "\nHunting rules (ctq hunt; queries/hunt/):")?;
    for rule in ctq_hunt::bundled() {
        writeln!(
            out,
            "\n{}  ({})\n    {}",
            rule.id,
            rule.severity.as_str(),
            rule.title
        )?;
        for threshold in &rule.thresholds {
            writeln!(
                out,
                "    {}={}  {}",
                threshold.name, threshold.default, threshold.meaning
            )?;
        }
    }
    writeln!(
        out,
        "\nRun them with `ctq hunt --source TRAIL`; `--rule ID` runs one, `--threshold NAME=VALUE` changes a threshold."
    )?;
    Ok(Outcome::Clean)
}
