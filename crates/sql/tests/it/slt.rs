//! The sqllogictest files of `tests/slt/`, DataFusion's own idiom for SQL tests: each file runs
//! on a fresh DataFusion session with ctq's functions registered
//! (`ctq_sql::functions::register`), and creates the small tables it reads.
//!
//! Cells are printed as ctq prints them (`ctq_sql::output::text_rows`), `NULL` for NULL and
//! `(empty)` for the empty string. The column types of `query <types>` are checked: `B` boolean,
//! `I` integer, `R` floating point or decimal, `T` text, `P` timestamp, `D` date or time, `?`
//! anything else (arrays, maps, structs, IP addresses).
//!
//! A failing record fails its file's test with the file, the line and the diff of the rows.
//! `CTQ_SLT_COMPLETE=1 cargo test -p ctq-sql --test it slt` rewrites the expected rows of every
//! file from what the queries return (review the diff before keeping it).

use std::path::{Path, PathBuf};

use ctq_sql::arrow::datatypes::DataType;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use sqllogictest::{
    AsyncDB, ColumnType, DBOutput, Runner, default_normalizer, default_validator,
    strict_column_validator,
};

/// A column type letter of `query <types>`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Type {
    Boolean,
    Integer,
    Float,
    Text,
    Timestamp,
    Date,
    Other,
}

impl ColumnType for Type {
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'B' => Type::Boolean,
            'I' => Type::Integer,
            'R' => Type::Float,
            'T' => Type::Text,
            'P' => Type::Timestamp,
            'D' => Type::Date,
            '?' => Type::Other,
            _ => return None,
        })
    }

    fn to_char(&self) -> char {
        match self {
            Type::Boolean => 'B',
            Type::Integer => 'I',
            Type::Float => 'R',
            Type::Text => 'T',
            Type::Timestamp => 'P',
            Type::Date => 'D',
            Type::Other => '?',
        }
    }
}

impl From<&DataType> for Type {
    fn from(data_type: &DataType) -> Self {
        match data_type {
            DataType::Boolean => Type::Boolean,
            t if t.is_integer() => Type::Integer,
            t if t.is_floating() || t.is_decimal() => Type::Float,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Type::Text,
            DataType::Timestamp(..) => Type::Timestamp,
            DataType::Date32 | DataType::Date64 | DataType::Time32(_) | DataType::Time64(_) => {
                Type::Date
            }
            _ => Type::Other,
        }
    }
}

/// One file's session.
struct Session {
    ctx: SessionContext,
}

#[async_trait::async_trait]
impl AsyncDB for Session {
    type Error = DataFusionError;
    type ColumnType = Type;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Type>, DataFusionError> {
        let frame = self.ctx.sql(sql).await?;
        let types: Vec<Type> = frame
            .schema()
            .fields()
            .iter()
            .map(|f| Type::from(f.data_type()))
            .collect();
        let batches = frame.collect().await?;
        if types.is_empty() {
            // DDL (`CREATE TABLE ...`): a statement.
            return Ok(DBOutput::StatementComplete(0));
        }
        let rows = ctq_sql::output::text_rows(&batches)
            .map_err(|e| DataFusionError::External(Box::new(e)))?
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|cell| match cell {
                        None => "NULL".to_string(),
                        Some(text) if text.is_empty() => "(empty)".to_string(),
                        Some(text) => text,
                    })
                    .collect()
            })
            .collect();
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &'static str {
        "ctq"
    }
}

fn slt_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt")
}

fn runner() -> Runner<Session, impl sqllogictest::MakeConnection<Conn = Session>> {
    let mut runner = Runner::new(|| async {
        let mut ctx = SessionContext::new();
        ctq_sql::functions::register(&mut ctx)?;
        Ok(Session { ctx })
    });
    runner.with_column_validator(strict_column_validator);
    runner
}

/// Runs `tests/slt/<name>.slt`; fails with the file, line and diff of the first record that
/// does not give what the file expects.
async fn run(name: &str) {
    let path = slt_dir().join(format!("{name}.slt"));
    if std::env::var_os("CTQ_SLT_COMPLETE").is_some() {
        runner()
            .update_test_file(
                &path,
                " ",
                default_validator,
                default_normalizer,
                strict_column_validator,
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    if let Err(error) = runner().run_file_async(&path).await {
        panic!("{}", error.display(false));
    }
}

/// One test per file, so that a failure names its file and the files run in parallel.
macro_rules! slt_files {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                run(stringify!($name)).await;
            }
        )*
        const FILES: &[&str] = &[$(stringify!($name)),*];
    };
}

slt_files!(
    arrays_and_maps,
    datetime,
    datetime_patterns,
    date_parts,
    denial,
    ipaddress,
    json,
    strings,
    regexp,
    athena_idioms,
);

#[test]
fn every_slt_file_has_a_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(slt_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FILES.iter().map(std::string::ToString::to_string).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "add each file of tests/slt to slt_files!");
}
