//! Command-line types: what `ctq` accepts, apart from what each command does with it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `--max-inflated-mib` unless given: far above any CloudTrail log file.
const DEFAULT_MAX_INFLATED_MIB: u64 = (ctq_ingest::DEFAULT_MAX_INFLATED_BYTES >> 20) as u64;

#[derive(Debug, Parser)]
#[command(
    name = "ctq",
    version = env!("CTQ_VERSION"),
    about = "Find AWS access denials in CloudTrail logs with SQL, offline",
    long_about = "Find AWS access denials in CloudTrail logs with SQL, offline.\n\n\
        ctq reads CloudTrail log files (gzipped {\"Records\":[...]} JSON as delivered to S3, \
        `aws cloudtrail lookup-events` output, or newline-delimited records) from local folders or \
        S3, or a Parquet store written by `ctq ingest`, and runs Athena-compatible SQL over them as \
        the table `cloudtrail`, locally or on a Ballista cluster.",
    after_help = "Exit status: 0 success; 1 error; 2 usage error; 3 success, but damaged input files were skipped (see stderr); 4 a --fail-on threshold was crossed (ctq report, ctq hunt)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL over a trail: inline, or from a saved .sql file with parameters.
    Query(QueryArgs),
    /// List the saved queries built into ctq: `ctq query NAME --param ...` runs one.
    Queries,
    /// An interactive SQL shell over a trail held in memory: history, completion, dot commands
    /// (.help). Statements piped in run one after another.
    Shell(ShellArgs),
    /// List access-denied and unauthorized errors, AWS's knowledge-center query as a command.
    Denials(DenialsArgs),
    /// Explain a window's denials: grouped by principal, action, resource and cause, each with
    /// the next step to take.
    Explain(ExplainArgs),
    /// Hunt for intrusions told by denials: reconnaissance bursts, leaked keys probing, role
    /// sprays, bucket guessing, attack tools, new sources. Rules are SQL in queries/hunt/.
    Hunt(HuntArgs),
    /// Print the columns of the `cloudtrail` table and their types.
    Schema(SchemaArgs),
    /// Convert a trail into a Parquet store that later queries read with --store; a re-run adds
    /// only new and changed files.
    Ingest(IngestArgs),
    /// Print the CREATE TABLE that lets Athena, Trino or Spark read a store, so the same saved
    /// queries run there.
    Ddl(DdlArgs),
    /// Run the saved queries and the triage over a window and write a report folder: a
    /// self-contained HTML page with charts, one CSV per query, summary.json. For cron.
    Report(ReportArgs),
    /// Say what the sources hold: when their files were delivered, files, records, event times,
    /// accounts, regions and damaged files.
    Info(InfoArgs),
    /// Run a Ballista scheduler or executor that knows ctq's SQL functions.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Print a shell completion script: `ctq completions bash > /etc/bash_completion.d/ctq`.
    Completions {
        /// The shell to complete ctq in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print ctq's manual page (roff): `ctq man | man -l -`.
    Man,
}

#[derive(Debug, Args)]
pub struct SourceArgs {
    /// A trail folder (walked recursively; the S3 layout AWSLogs/... or any), a log file, or
    /// s3://bucket[/prefix]. Repeatable.
    #[arg(
        long = "source",
        short = 's',
        value_name = "PATH",
        required_unless_present = "store",
        conflicts_with = "store",
        env = "CTQ_SOURCE"
    )]
    pub sources: Vec<PathBuf>,
    /// A Parquet store written by `ctq ingest`, read instead of the raw trail: a folder or
    /// s3://bucket/prefix.
    #[arg(long, value_name = "DIR|S3_URL")]
    pub store: Option<String>,
    /// Run on the Ballista cluster whose scheduler is here (df://host:port), over --store, a
    /// folder every executor sees.
    #[arg(
        long,
        value_name = "URL",
        requires = "store",
        conflicts_with = "sources",
        value_parser = parse_cluster_url,
        help_heading = "Cluster"
    )]
    pub cluster: Option<String>,
    /// Fail at the first damaged file instead of reporting it and reading the rest.
    #[arg(long)]
    pub strict: bool,
    /// The most a gzip log file may inflate to, in MiB; a file past it is damaged (a gzip bomb).
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_INFLATED_MIB, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_inflated_mib: u64,
    /// Another name for the table, so a query written for another setup runs unchanged: NAME,
    /// db.NAME, "db"."NAME" or catalog.db.NAME, as the query writes it. Repeatable.
    #[arg(long = "table", value_name = "NAME")]
    pub tables: Vec<String>,
    /// Also register the trail under this name with CloudTrail Lake's schema (eventTime a
    /// timestamp, requestParameters and the other documents maps, readOnly a boolean), so a
    /// saved Lake query runs with its event data store id as the table name. Repeatable.
    #[arg(long = "lake-table", value_name = "EDS_ID")]
    pub lake_tables: Vec<String>,
    /// How long after an event its log file may be delivered. With a time window, files
    /// delivered later than the window's end plus this are not read.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub delivery_slack: i64,
    #[command(flatten)]
    pub s3: S3Args,
}

/// How to reach S3, for s3:// sources.
#[derive(Debug, Args)]
pub struct S3Args {
    /// AWS profile for s3:// sources (default: the AWS chain: environment, ~/.aws, SSO, roles).
    #[arg(long, env = "AWS_PROFILE", help_heading = "S3")]
    pub profile: Option<String>,
    /// AWS region of the trail bucket.
    #[arg(long, env = "AWS_REGION", help_heading = "S3")]
    pub region: Option<String>,
    /// An S3-compatible endpoint, such as http://127.0.0.1:9000 (AWS_ENDPOINT_URL works too).
    #[arg(long, value_name = "URL", help_heading = "S3")]
    pub endpoint_url: Option<String>,
    /// Address buckets by path (endpoint/bucket/key), as most S3-compatible stores need.
    #[arg(long, help_heading = "S3")]
    pub path_style: bool,
    /// GET requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 32, help_heading = "S3")]
    pub max_in_flight: usize,
    /// How long to wait for S3 to answer a request, or to go on with a body, before trying
    /// again; a request gets three times this over all its tries (docs/s3.md).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..),
        help_heading = "S3"
    )]
    pub s3_timeout: u64,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// How to print results [default: from the -o file's extension (.csv, .json,
    /// .ndjson/.jsonl, .parquet), else table]. Parquet only with -o.
    #[arg(long, value_enum, requires_if("parquet", "output"))]
    pub format: Option<Format>,
    /// Write results to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Rows of a table printed to a terminal; the rest are counted on standard error. 0: all.
    /// [default: 100, or all when the query has a LIMIT]. Files and pipes always get every row.
    #[arg(long, value_name = "N")]
    pub max_rows: Option<usize>,
    /// Print no summary of files read on standard error; warnings about damaged files remain.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Ndjson,
    Parquet,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The SQL to run (omit it when using --file).
    #[arg(
        value_name = "SQL",
        required_unless_present = "file",
        conflicts_with = "file",
        allow_hyphen_values = true
    )]
    pub sql: Option<String>,
    /// Read the SQL from a file, such as queries/access-denied.sql.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A value for a $name placeholder, bound as a typed value (never pasted into the SQL). Repeatable.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DenialsArgs {
    #[command(flatten)]
    pub scope: DenialScopeArgs,
    #[command(flatten)]
    pub window: WindowArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Whose denials, where: the filters every command that reads denials shares.
#[derive(Debug, Args)]
pub struct DenialScopeArgs {
    /// Only this principal: a full ARN (a role's or user's ARN also matches the sessions it
    /// issued), a glob over the ARN with * (arn:aws:sts::*:assumed-role/Admin/*), or a bare
    /// user or role name (matches user/NAME, role/NAME and assumed-role/NAME/*).
    #[arg(long, alias = "arn", value_name = "ARN|GLOB|NAME")]
    pub principal: Option<String>,
    /// Only records delivered to this account (recipientAccountId).
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<String>,
    /// Only events of this AWS region (awsRegion); --region is the S3 bucket's region.
    #[arg(long, value_name = "REGION")]
    pub event_region: Option<String>,
}

/// A time window over event times.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// The window: this long up to now (24h, 7d, 90m).
    #[arg(long, value_name = "AGE", conflicts_with_all = ["from", "to"])]
    pub since: Option<String>,
    /// Start of the window, inclusive: ISO 8601 (2019-10-29T06:40:00Z; a time without a zone is
    /// UTC) or an age (15m, 24h, 7d).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the window, exclusive: ISO 8601 (UTC unless it has a zone) or an age (15m, 24h,
    /// 7d).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub scope: DenialScopeArgs,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Leave out denials of calls made by AWS services (userIdentity.invokedBy, AWSService
    /// principals) and the read-only calls the console makes while a page loads.
    #[arg(long)]
    pub exclude_noise: bool,
    /// A file of (principal, action, resource) patterns to ignore, one per line; see
    /// docs/explain.md.
    #[arg(long, value_name = "FILE")]
    pub suppress: Option<PathBuf>,
    /// Event IDs shown per group.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub samples: usize,
    /// What a group has in common: principal, action, resource (folded to what a person grants,
    /// such as an S3 bucket and prefix), cause, account; comma-separated, in any order.
    #[arg(
        long,
        value_name = "DIM,...",
        value_delimiter = ',',
        default_value = "principal,action,resource,cause"
    )]
    pub group_by: Vec<ctq_denial::triage::Dimension>,
    /// Show only the N largest groups (the report shows 20 unless told; 0 shows all).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Only denials by these kinds of policy: scp, rcp, boundary, session, identity, resource,
    /// vpce, trust (a role's trust policy). Repeatable or comma-separated.
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    pub cause: Vec<ctq_denial::triage::CauseKind>,
    /// `report` for people, `json` for programs, `csv` for a table of the groups (tickets,
    /// spreadsheets).
    #[arg(long, value_enum, default_value_t = ExplainFormat::Report)]
    pub format: ExplainFormat,
    /// Write the explanation to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print no summary of files read on standard error; warnings about damaged files remain.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The window: this long up to now (24h, 7d, 90m).
    #[arg(long, value_name = "AGE", required_unless_present = "from", conflicts_with_all = ["from", "to"])]
    pub since: Option<String>,
    /// Start of the window, inclusive: ISO 8601 (2019-10-29T06:40:00Z; a time without a zone is
    /// UTC) or an age (24h).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the window, exclusive: ISO 8601 (UTC unless it has a zone) or an age; now when
    /// left out.
    #[arg(long, value_name = "TIME", requires = "from")]
    pub to: Option<String>,
    #[command(flatten)]
    pub scope: DenialScopeArgs,
    /// The report folder: report.html, one CSV per query, summary.json. Replaced whole; a
    /// folder holding anything but an earlier report is refused.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Run the .sql files of this folder instead of the bundled queries. $from and $to are bound
    /// to the window; other parameters come from --param.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,
    /// A value for another $name placeholder of the queries, bound as a typed value. Repeatable.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Exit with status 4 when this is crossed: any, explicit-deny, damaged, denials>N,
    /// principal>N (more than N denials for one principal), no-data (no event in the window),
    /// min-files=N or min-records=N (fewer read), finding or finding=SEVERITY (a hunting finding,
    /// of that severity or above: low, medium, high). Comma-separated or repeated; see
    /// docs/cron.md.
    #[arg(long = "fail-on", value_name = "RULE", value_delimiter = ',')]
    pub fail_on: Vec<ctq_report::fail_on::Rule>,
    /// Leave out of the triage denials of calls made by AWS services and console page loads.
    #[arg(long)]
    pub exclude_noise: bool,
    /// A file of (principal, action, resource) patterns the triage ignores; see docs/explain.md.
    #[arg(long, value_name = "FILE")]
    pub suppress: Option<PathBuf>,
    /// Print nothing on standard error but errors and damaged files, even on a terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Args)]
pub struct HuntArgs {
    #[command(flatten)]
    pub scope: DenialScopeArgs,
    #[command(flatten)]
    pub window: WindowArgs,
    /// Run the .sql rules of this folder instead of the bundled ones (queries/hunt/); see
    /// docs/hunt.md for what a rule file holds.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Run only this rule (by id). Repeatable.
    #[arg(long = "rule", value_name = "ID")]
    pub only: Vec<String>,
    /// Set a rule threshold, such as min_actions=15 (every rule declaring it takes the value).
    /// Repeatable; `ctq queries` lists the rules and their thresholds.
    #[arg(long = "threshold", short = 't', value_name = "NAME=VALUE", value_parser = parse_param)]
    pub thresholds: Vec<(String, String)>,
    /// A file of (principal, action, resource) patterns whose denials no rule sees; the same
    /// file as `ctq explain --suppress`.
    #[arg(long, value_name = "FILE")]
    pub suppress: Option<PathBuf>,
    /// `report` for people, `json` for programs.
    #[arg(long, value_enum, default_value_t = HuntFormat::Report)]
    pub format: HuntFormat,
    /// Exit with status 4 when there is a finding of this severity or above.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<HuntSeverity>,
    /// The most memory the window's events may take, in MiB; a larger window is refused with
    /// the advice to hunt a shorter one.
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub memory_limit: usize,
    /// Write the findings to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print no summary of files read on standard error; warnings about damaged files remain.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HuntFormat {
    Report,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HuntSeverity {
    Low,
    Medium,
    High,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Print nothing on standard error but errors and damaged files.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Report,
    Json,
    Csv,
}

#[derive(Debug, Args)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "each is a flag of its own on the command line"
)]
pub struct IngestArgs {
    /// The trail to convert: folders or files, or one s3://bucket[/prefix]. Repeatable for
    /// local paths.
    #[arg(
        long = "source",
        short = 's',
        value_name = "PATH",
        required_unless_present = "rebuild_manifest"
    )]
    pub sources: Vec<PathBuf>,
    #[command(flatten)]
    pub s3: S3Args,
    /// The store: a folder, created when missing, or s3://bucket/prefix. The S3 options apply to
    /// both the source and the store.
    #[arg(long, value_name = "DIR|S3_URL")]
    pub store: String,
    /// Read again the source files an earlier run recorded as damaged.
    #[arg(long)]
    pub retry_damaged: bool,
    /// Fail at the first damaged file instead of recording it and going on.
    #[arg(long)]
    pub strict: bool,
    /// The most a gzip log file may inflate to, in MiB; a file past it is damaged (a gzip bomb).
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_INFLATED_MIB, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_inflated_mib: u64,
    /// Source files converted between two commits of the manifest, at most: a killed run keeps
    /// what it committed, and memory is bounded by the files of two commits.
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub files_per_commit: usize,
    /// Source MiB (as listed: gzip for gzip logs) converted between two commits, at most; a
    /// larger file is a commit of its own. Whichever bound comes first ends a commit.
    #[arg(long, value_name = "MIB", default_value_t = ctq_store::DEFAULT_MIB_PER_COMMIT, value_parser = clap::value_parser!(u64).range(1..))]
    pub mib_per_commit: u64,
    /// Read the footer of every data file of the store and check its row count, not only that
    /// it is there at its size; a file that fails is replaced by reading its sources again.
    #[arg(long)]
    pub verify: bool,
    /// Write a new manifest from the store's data files (after a lost or stale manifest), then
    /// ingest the sources, if any are given.
    #[arg(long)]
    pub rebuild_manifest: bool,
    /// Remove data files the store cannot account for, and repair damaged data files whose
    /// sources are no longer in the trail, dropping their rows; without it ingest refuses.
    #[arg(long)]
    pub force: bool,
    /// Print no summary on standard error; damaged files are still named.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// A scheduler: `ctq query --cluster df://HOST:PORT --store DIR` sends queries to it.
    Scheduler {
        /// Address to listen on.
        #[arg(long, default_value = "0.0.0.0:50050")]
        bind: std::net::SocketAddr,
    },
    /// An executor, serving the scheduler given.
    Executor {
        /// The scheduler, HOST:PORT.
        #[arg(long, default_value = "localhost:50050")]
        scheduler: String,
        /// Host to listen on.
        #[arg(long, default_value = "0.0.0.0")]
        bind_host: String,
        /// Arrow Flight port, for shuffle data.
        #[arg(long, default_value_t = 50051)]
        port: u16,
        /// gRPC port, for tasks.
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
    },
}

#[derive(Debug, Args)]
pub struct DdlArgs {
    /// The engine to print the statements for.
    #[arg(long, value_enum)]
    pub engine: DdlEngine,
    /// Where the engine finds the store, such as s3://bucket/cloudtrail-store/.
    #[arg(long, value_name = "URL")]
    pub location: String,
    /// The table's name.
    #[arg(long, default_value = "cloudtrail")]
    pub table: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DdlEngine {
    Athena,
    Trino,
    Spark,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got {text:?}"))?;
    let name = name.trim().trim_start_matches('$');
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "parameter name {name:?} must be letters, digits or _"
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

fn parse_duration(text: &str) -> Result<i64, String> {
    ctq_sql::window::parse_duration_ms(text)
        .ok_or_else(|| format!("expected a duration such as 30m, 1h, 2h, got {text:?}"))
}

/// A scheduler address must say its scheme: `host:port` alone reads as a URL whose scheme is
/// the host.
fn parse_cluster_url(text: &str) -> Result<String, String> {
    if text.starts_with("df://") {
        Ok(text.to_string())
    } else {
        Err(format!(
            "write the scheduler's address as df://HOST:PORT, such as df://{}",
            text.split_once("://").map_or(text, |(_, rest)| rest)
        ))
    }
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    /// Most memory the trail may take when held for the shell's queries, in MiB; past it each
    /// query reads the trail again. 0 never holds it.
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub memory_limit: usize,
    /// How to print results at the start (.format changes it).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print nothing on standard error but errors and damaged files.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}
