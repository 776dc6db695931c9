//! `ctq ddl`: the statements that register a store in another engine.

use ctq_store::ddl::{Engine, create_table};

use crate::args::{DdlArgs, DdlEngine};
use crate::commands::Outcome;

// The signature every command has, for one dispatch in commands/mod.rs.
#[allow(clippy::needless_pass_by_value)]
pub fn run(args: DdlArgs) -> anyhow::Result<Outcome> {
    let engine = match args.engine {
        DdlEngine::Athena => Engine::Athena,
        DdlEngine::Trino => Engine::Trino,
        DdlEngine::Spark => Engine::Spark,
    };
    // Written with `?`, not `print!`: a reader that goes away ends the run quietly.
    std::io::Write::write_all(
        &mut std::io::stdout().lock(),
        create_table(engine, &args.location, &args.table).as_bytes(),
    )?;
    Ok(Outcome::Clean)
}
