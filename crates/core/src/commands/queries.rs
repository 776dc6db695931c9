//! `ctq queries`: the saved queries built into ctq, what each is for and the parameters it takes.

use crate::commands::Outcome;

pub fn run() -> Outcome {
    let mut queries = ctq_sql::saved::bundled();
    queries.sort_by(|a, b| a.name.cmp(&b.name));
    for query in &queries {
        println!(
            "{}  ({})\n    {}",
            query.name,
            ctq_shell::describe_parameters(&ctq_shell::placeholders(&query.sql)),
            query.title()
        );
    }
    println!("\nRun one with `ctq query NAME --source TRAIL --param NAME=VALUE ...`.");
    Outcome::Clean
}
