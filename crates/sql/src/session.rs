//! A query session over a trail: the DataFusion context, the table's names, parameter binding.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use ctq_ingest::{
    ColumnSet, FileDamage, FileOutcome, FileOutcomes, IdentityFields, IngestError, Progress,
};
use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::{
    CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider, TableProvider,
};
use datafusion::common::TableReference;
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::logical_expr::LogicalPlan;

use crate::SqlError;
use crate::held::{HeldTable, memory_table};
use crate::table::{CloudTrailTable, TrailSource};
use ctq_s3::{S3Options, S3Trail, TrailLocation};
use ctq_store::StoreLocation;
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::object_store::ObjectStore;
use datafusion::object_store::local::LocalFileSystem;

use crate::store_files::ListedFilesOnly;

/// Names the trail is registered under: ctq's own and the one AWS's documentation uses.
pub const TABLE_NAMES: [&str; 2] = ["cloudtrail", "cloudtrail_logs"];

/// The name a window's single read goes by while [`TrailSession::cache_window`] plans it.
const WINDOW_READ_TABLE: &str = "ctq_window_read";

/// How a session is opened.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Fail a query at the first damaged file instead of skipping it.
    pub strict: bool,
    /// The most a gzip file may inflate to; past it the file is damaged (a gzip bomb).
    pub max_inflated_bytes: usize,
    /// More names for the table, so a query pasted from elsewhere runs unchanged: `t`, `db.t`,
    /// `"db"."t"` or `catalog.db.t`, as the query writes it.
    pub extra_table_names: Vec<String>,
    /// Names under which the trail is also registered with CloudTrail Lake's schema (see
    /// [`crate::lake`]), so a saved Lake query runs with only its event data store id given.
    pub lake_table_names: Vec<String>,
    /// How long after an event its log file may be delivered; files delivered later than a
    /// query's window plus this are not read.
    pub delivery_slack_ms: i64,
    /// How to reach S3, for `s3://` sources.
    pub s3: S3Options,
    /// Counters of files and bytes done, for a progress display.
    pub progress: Option<Arc<Progress>>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            strict: false,
            max_inflated_bytes: ctq_ingest::DEFAULT_MAX_INFLATED_BYTES,
            extra_table_names: Vec::new(),
            lake_table_names: Vec::new(),
            delivery_slack_ms: ctq_ingest::prune::DEFAULT_DELIVERY_SLACK_MS,
            s3: S3Options::default(),
            progress: None,
        }
    }
}

/// The rows of a finished query, with the column names even when no row matched.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    pub fn row_count(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// A DataFusion session with the trail registered as a table and Athena's functions added.
pub struct TrailSession {
    ctx: SessionContext,
    outcomes: Arc<Mutex<FileOutcomes>>,
    s3: Vec<S3Trail>,
    store: Option<StoreLocation>,
    rewrite: crate::dialect::RewriteContext,
}

impl TrailSession {
    /// Registers the trail under `sources`: folders, files, or S3 locations. Files are found and
    /// read when a query runs, so each query reads only what its filters can need.
    pub async fn open<S>(sources: &[S], options: &SessionOptions) -> Result<Self, SqlError>
    where
        S: Clone + Into<TrailLocation>,
    {
        let mut trail_sources = Vec::with_capacity(sources.len());
        for source in sources {
            match source.clone().into() {
                TrailLocation::S3(location) => trail_sources.push(TrailSource::S3(Box::new(
                    S3Trail::connect(location, options.s3.clone()).await?,
                ))),
                TrailLocation::Local(path) => {
                    std::fs::metadata(&path).map_err(|e| IngestError::Source {
                        path: path.clone(),
                        source: e,
                    })?;
                    trail_sources.push(TrailSource::Local(path));
                }
            }
        }
        let outcomes = Arc::new(Mutex::new(FileOutcomes::default()));
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema("awsdatacatalog", "default");
        let mut ctx = SessionContext::new_with_config(config);
        install_sql(&mut ctx)?;
        let s3 = trail_sources
            .iter()
            .filter_map(|s| match s {
                TrailSource::S3(trail) => Some(trail.as_ref().clone()),
                TrailSource::Local(_) => None,
            })
            .collect();
        let table = Arc::new(CloudTrailTable::new(
            trail_sources,
            options.strict,
            options.max_inflated_bytes,
            options.delivery_slack_ms,
            outcomes.clone(),
            options.progress.clone(),
        ));
        register_table_names(&ctx, table, options)?;
        Ok(Self {
            ctx,
            outcomes,
            s3,
            store: None,
            rewrite: rewrite_context(options),
        })
    }

    /// Registers a Parquet store written by `ctq ingest` (a folder or `s3://bucket/prefix`) as
    /// the table: the same columns, plus `eventts` and the partition columns `event_account`,
    /// `event_region`, `event_date`.
    pub async fn open_store(
        store: impl Into<StoreLocation>,
        options: &SessionOptions,
    ) -> Result<Self, SqlError> {
        let store = store.into();
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema("awsdatacatalog", "default");
        let ctx = SessionContext::new_with_config(config);
        let (manifest, present, url, files_url, files): (_, _, _, _, Arc<dyn ObjectStore>) =
            match &store {
                StoreLocation::Local(path) => (
                    read_local_manifest(path, &store)?,
                    ctq_store::list_local(path)?,
                    crate::store_table::local_url(path)?,
                    ObjectStoreUrl::local_filesystem(),
                    Arc::new(LocalFileSystem::new()),
                ),
                StoreLocation::S3(location) => {
                    // Boxed: the client's futures are large, and this one is awaited by many.
                    let bucket =
                        Box::pin(S3Trail::connect(location.clone(), options.s3.clone())).await?;
                    let Some(manifest) =
                        Box::pin(bucket.get_if_exists(ctq_store::Manifest::NAME)).await?
                    else {
                        return Err(no_manifest(&store, &Box::pin(bucket.list_all()).await?));
                    };
                    let prefix = location.prefix.trim_end_matches('/');
                    (
                        ctq_store::Manifest::from_bytes(&manifest, &store.to_string())?,
                        Box::pin(bucket.list_all()).await?,
                        ListingTableUrl::parse(if prefix.is_empty() {
                            format!("s3://{}/", location.bucket)
                        } else {
                            format!("s3://{}/{prefix}/", location.bucket)
                        })?,
                        ObjectStoreUrl::parse(format!("s3://{}", location.bucket))?,
                        Arc::new(bucket.object_store()?),
                    )
                }
            };
        let faults = ctq_store::check_listed(&manifest, &present);
        if let (true, Some(first)) = (options.strict, faults.first()) {
            return Err(SqlError::Store(ctq_store::StoreError::DamagedDataFiles {
                store: store.to_string(),
                count: faults.len(),
                first: first.to_string(),
            }));
        }
        let mut readable: HashSet<String> = manifest.files.into_keys().collect();
        let mut outcomes = FileOutcomes::default();
        for fault in faults {
            readable.remove(&fault.name);
            outcomes.files.insert(
                store_file_path(&store, &fault.name),
                FileOutcome::Damaged(FileDamage::Unreadable(format!(
                    "{}; the store's manifest lists it with {} rows, which this query lacks: `ctq ingest --store {store}` over the trail reads its sources again",
                    fault.problem, fault.rows
                ))),
            );
        }
        let listed_only = ListedFilesOnly::new(files, url.prefix().clone(), readable);
        ctx.register_object_store(files_url.as_ref(), Arc::new(listed_only));
        let table: Arc<dyn TableProvider> = Arc::new(crate::store_table::StoreTable::open(url)?);
        let session = Self::over_store(ctx, store, table, options)?;
        *session.outcomes.lock().expect("file outcomes lock") = outcomes;
        Ok(session)
    }

    /// A session on a context made elsewhere, such as a Ballista cluster's: ctq's functions are
    /// registered on it and the store becomes the table. The store is registered as a plain
    /// listing table, which a cluster can ship to its executors; the window pruning
    /// [`open_store`](Self::open_store) adds is for local runs.
    pub fn on_context(
        ctx: SessionContext,
        store: &Path,
        options: &SessionOptions,
    ) -> Result<Self, SqlError> {
        let location = StoreLocation::Local(store.to_path_buf());
        read_local_manifest(store, &location)?;
        let url = crate::store_table::local_url(store)?;
        let table: Arc<dyn TableProvider> = Arc::new(crate::store_table::listing_table(url)?);
        Self::over_store(ctx, location, table, options)
    }

    fn over_store(
        mut ctx: SessionContext,
        store: StoreLocation,
        table: Arc<dyn TableProvider>,
        options: &SessionOptions,
    ) -> Result<Self, SqlError> {
        install_sql(&mut ctx)?;
        register_table_names(&ctx, table, options)?;
        Ok(Self {
            ctx,
            outcomes: Arc::new(Mutex::new(FileOutcomes::default())),
            s3: Vec::new(),
            store: Some(store),
            rewrite: rewrite_context(options),
        })
    }

    /// The store the table reads, when opened with [`TrailSession::open_store`].
    pub fn store(&self) -> Option<&StoreLocation> {
        self.store.as_ref()
    }

    /// The S3 sources, with their request counts so far.
    pub fn s3_trails(&self) -> &[S3Trail] {
        &self.s3
    }

    /// What happened to each file so far: read, skipped, or damaged.
    pub fn file_outcomes(&self) -> FileOutcomes {
        self.outcomes.lock().expect("file outcomes lock").clone()
    }

    /// Plans `sql`, binds `params` (`name` to value, for `$name` placeholders) as typed values,
    /// and runs it. Every placeholder needs a value and every value a placeholder.
    pub async fn query(
        &self,
        sql: &str,
        params: &[(String, String)],
    ) -> Result<QueryResult, SqlError> {
        let frame = self.prepare(sql, params).await?;
        let columns = column_names(&frame);
        let batches = frame.collect().await?;
        Ok(QueryResult { columns, batches })
    }

    /// Like [`query`](Self::query), but hands the rows over as a stream, for results too large to
    /// hold.
    pub async fn query_stream(
        &self,
        sql: &str,
        params: &[(String, String)],
    ) -> Result<(Vec<String>, SendableRecordBatchStream), SqlError> {
        let frame = self.prepare(sql, params).await?;
        let columns = column_names(&frame);
        Ok((columns, frame.execute_stream().await?))
    }

    /// The names of the `$name` placeholders of `sql`, sorted, without the `$`.
    pub async fn parameters(&self, sql: &str) -> Result<Vec<String>, SqlError> {
        let plan = self.plan(sql).await?;
        let mut names: Vec<String> = plan
            .get_parameter_types()?
            .into_keys()
            .map(|id| id.trim_start_matches('$').to_string())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Parses `sql` as Athena reads it ([`crate::dialect`]) and plans it; a table the session does
    /// not know is named with the way to map it.
    async fn plan(&self, sql: &str) -> Result<LogicalPlan, SqlError> {
        let state = self.ctx.state();
        let recursion_limit = state.config().options().sql_parser.recursion_limit.get();
        let statement = crate::dialect::parse_statement(sql, &self.rewrite, recursion_limit)?;
        // Statements other than queries are refused after planning, with the reason; a table they
        // would create is not missing.
        let is_query = matches!(&statement, datafusion::sql::parser::Statement::Statement(inner)
            if matches!(inner.as_ref(), datafusion::sql::sqlparser::ast::Statement::Query(_)));
        for reference in state.resolve_table_references(&statement)? {
            if is_query && !self.ctx.table_exist(reference.clone()).unwrap_or(false) {
                return Err(SqlError::UnknownTable {
                    name: reference.to_string(),
                    tables: self.table_names(),
                });
            }
        }
        Ok(state.statement_to_plan(statement).await?)
    }

    async fn prepare(&self, sql: &str, params: &[(String, String)]) -> Result<DataFrame, SqlError> {
        let plan = self.plan(sql).await?;
        // A view only names a query, in this session's memory; every other statement is refused.
        let is_create_view = matches!(
            &plan,
            LogicalPlan::Ddl(datafusion::logical_expr::DdlStatement::CreateView(_))
        );
        SQLOptions::new()
            .with_allow_ddl(is_create_view)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)
            .map_err(|e| SqlError::ReadOnly(e.to_string()))?;
        let placeholders: HashMap<String, Option<_>> = plan
            .get_parameter_types()?
            .into_iter()
            .map(|(id, ty)| (id.trim_start_matches('$').to_string(), ty))
            .collect();
        let mut expected: Vec<&String> = placeholders.keys().collect();
        expected.sort();
        let mut values = HashMap::new();
        for (name, text) in params {
            let name = name.trim_start_matches('$');
            let Some(ty) = placeholders.get(name) else {
                return Err(SqlError::UnknownParameter {
                    name: name.to_string(),
                    expected: describe_names(&expected),
                });
            };
            let value = match ty {
                Some(ty) => ScalarValue::try_from_string(text.clone(), ty).map_err(|e| {
                    SqlError::BadParameter {
                        name: name.to_string(),
                        value: text.clone(),
                        reason: e.to_string(),
                    }
                })?,
                None => ScalarValue::Utf8(Some(text.clone())),
            };
            values.insert(name.to_string(), value);
        }
        if let Some(missing) = expected.iter().find(|n| !values.contains_key(n.as_str())) {
            return Err(SqlError::MissingParameter {
                name: (*missing).clone(),
                expected: describe_names(&expected),
            });
        }
        let plan = if values.is_empty() {
            plan
        } else {
            plan.with_param_values(ParamValues::from(values))?
        };
        Ok(self.ctx.execute_logical_plan(plan).await?)
    }
}

/// The leaves of `useridentity` an optimized `plan` reads. DataFusion plans each field access
/// as `get_field(useridentity, 'a', 'b')`, so the leaves are known when every use of the column
/// is such an access, or passes the column on unchanged (a projection naming it, a filter, a sort,
/// a limit, a union) to such accesses. Any other use reads every leaf: the struct in the result,
/// renamed, given to a function, compared or grouped on (rows that differ only in a leaf left
/// unread would become equal), or carried through a node this does not know.
fn identity_leaves_read(plan: &LogicalPlan) -> Result<IdentityFields, SqlError> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::Expr;

    const COLUMN: &str = "useridentity";
    let carries_the_struct =
        |plan: &LogicalPlan| plan.schema().fields().iter().any(|f| f.name() == COLUMN);
    if carries_the_struct(plan) {
        return Ok(IdentityFields::ALL);
    }
    let read = std::cell::Cell::new(IdentityFields::NONE);
    let visit = |expr: &Expr| {
        expr.apply(|e| {
            if let Expr::ScalarFunction(call) = e
                && call.func.name() == "get_field"
                && let Some((Expr::Column(column), path)) = call.args.split_first()
                && column.name == COLUMN
            {
                let names: Option<Vec<&str>> = path
                    .iter()
                    .map(|arg| match arg {
                        Expr::Literal(value, _) => value.try_as_str().flatten(),
                        _ => None,
                    })
                    .collect();
                read.set(
                    read.get().union(
                        names
                            .and_then(|names| IdentityFields::under(&names.join(".")))
                            .unwrap_or(IdentityFields::ALL),
                    ),
                );
                return Ok(TreeNodeRecursion::Jump);
            }
            if let Expr::Column(column) = e
                && column.name == COLUMN
            {
                read.set(IdentityFields::ALL);
            }
            Ok(TreeNodeRecursion::Continue)
        })
    };
    plan.apply_with_subqueries(|node| {
        match node {
            // A projection naming the column passes it on; its other expressions are uses.
            LogicalPlan::Projection(projection) => {
                for expr in &projection.expr {
                    if !matches!(expr, Expr::Column(column) if column.name == COLUMN) {
                        visit(expr)?;
                    }
                }
            }
            LogicalPlan::TableScan(_)
            | LogicalPlan::Filter(_)
            | LogicalPlan::Sort(_)
            | LogicalPlan::Limit(_)
            | LogicalPlan::SubqueryAlias(_)
            | LogicalPlan::Union(_)
            | LogicalPlan::Repartition(_) => {
                node.apply_expressions(visit)?;
            }
            _ if carries_the_struct(node) => {
                read.set(IdentityFields::ALL);
                return Ok(TreeNodeRecursion::Stop);
            }
            _ => {
                node.apply_expressions(visit)?;
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(read.get())
}

/// The trail's columns a set of queries reads ([`TrailSession::trail_columns`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnNeeds {
    /// Read for every record.
    pub every: BTreeSet<String>,
    /// Read only for records with an error code, and for those whose event name starts with one
    /// of `whole_event_name_prefixes`.
    pub errors: BTreeSet<String>,
    /// Records read whole whatever their error code (as [`TrailSession::register_partial_read`]).
    pub whole_event_name_prefixes: &'static [&'static str],
    /// The leaves of `useridentity` read, when `every` or `errors` names it.
    pub identity: IdentityFields,
}

impl Default for ColumnNeeds {
    /// Nothing read yet.
    fn default() -> Self {
        Self {
            every: BTreeSet::new(),
            errors: BTreeSet::new(),
            whole_event_name_prefixes: &[],
            identity: IdentityFields::NONE,
        }
    }
}

impl ColumnNeeds {
    /// Adds what `other` reads.
    pub fn extend(&mut self, other: ColumnNeeds) {
        self.every.extend(other.every);
        self.errors.extend(other.errors);
        if !other.whole_event_name_prefixes.is_empty() {
            self.whole_event_name_prefixes = other.whole_event_name_prefixes;
        }
        self.identity = self.identity.union(other.identity);
    }
}

/// How [`TrailSession::register_partial_read`] reads the trail for one query that knows what it
/// reads of which records.
#[derive(Debug, Clone, Copy)]
pub struct PartialRead<'a> {
    /// Columns read of failed calls only (null for the others).
    pub failed_only: &'a [&'a str],
    /// Successful calls whose event name starts with one of these are read whole too.
    pub whole_event_name_prefixes: &'static [&'static str],
    /// The leaves of `useridentity` the query reads.
    pub identity: IdentityFields,
}

/// What [`TrailSession::cache_in_memory`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// The table's rows are held in memory; later queries read them, not the trail.
    Cached {
        rows: usize,
        bytes: usize,
        /// Files read to fill the cache.
        files: usize,
    },
    /// The rows would take more than the budget: nothing is kept and queries read the trail.
    OverBudget { budget_bytes: usize },
}

impl TrailSession {
    /// Reads the whole table once into Arrow batches held in memory and registers them in its
    /// place, under every name it had (the Lake views are rebuilt over them), so that each later
    /// query costs only DataFusion's work. When the batches pass `budget_bytes` the read stops,
    /// what was read is dropped and the table stays as it was. Call it before creating views of
    /// your own: a view made earlier keeps reading the trail.
    pub async fn cache_in_memory(&mut self, budget_bytes: usize) -> Result<CacheOutcome, SqlError> {
        let trail = self.ctx.table_provider(TABLE_NAMES[0]).await?;
        let frame = self.ctx.read_table(trail.clone())?;
        self.cache_frames(&trail, vec![frame], budget_bytes, true)
            .await
    }

    /// Registers the trail as `name` for a query that reads `failed_only` columns of failed calls
    /// alone: of the other records, those whose event name starts with one of
    /// `whole_event_name_prefixes` are read whole, the rest with those columns left null and never
    /// parsed. Of `useridentity`, only the `identity` leaves are filled (the rest null). A store is
    /// registered as it is (its columns are read whatever the records hold).
    /// [`deregister`](Self::deregister) it when done.
    pub async fn register_partial_read(
        &self,
        name: &str,
        read: &PartialRead<'_>,
    ) -> Result<(), SqlError> {
        let trail = self.ctx.table_provider(TABLE_NAMES[0]).await?;
        let read = match trail.downcast_ref::<CloudTrailTable>() {
            Some(files) => {
                let failed = read
                    .failed_only
                    .iter()
                    .fold(ColumnSet::NONE, |set, name| set.with_name(name));
                Arc::new(
                    files
                        .reading_failed_calls_whole(
                            ColumnSet::ALL.difference(failed),
                            read.whole_event_name_prefixes,
                        )
                        .reading_identity(read.identity),
                )
            }
            None => trail,
        };
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(name, read)?;
        Ok(())
    }

    /// Forgets the table or view `name`, if the session has one.
    pub fn deregister(&self, name: &str) -> Result<(), SqlError> {
        self.ctx.deregister_table(name)?;
        Ok(())
    }

    /// Like [`cache_in_memory`](Self::cache_in_memory), but only the records of `window` and only
    /// the columns `needs` names (as [`trail_columns`](Self::trail_columns) gives them for the
    /// queries to come): a command that runs several queries over one window decodes it once.
    /// Columns only queries of records with an error code read are kept for those records only,
    /// which is most of the memory a window takes (request parameters of every S3 data event).
    /// The Lake views keep reading the trail. Queries that read other records or columns than
    /// these must not follow.
    pub async fn cache_window(
        &self,
        window: &crate::TimeWindow,
        needs: &ColumnNeeds,
        budget_bytes: usize,
    ) -> Result<CacheOutcome, SqlError> {
        let trail = self.ctx.table_provider(TABLE_NAMES[0]).await?;
        let quoted = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
        let select_from = |table: &str, columns: &BTreeSet<String>, condition: &str| {
            format!(
                "SELECT {} FROM {table} \
                 WHERE from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from) \
                 AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to){condition}",
                columns
                    .iter()
                    .map(|c| quoted(c))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        };
        let select = |columns: &BTreeSet<String>, condition: &str| {
            select_from(TABLE_NAMES[0], columns, condition)
        };
        let mut every = needs.every.clone();
        if needs.errors.is_subset(&needs.every) {
            let frame = self.prepare(&select(&every, ""), &window.params()).await?;
            return self
                .cache_frames(&trail, vec![frame], budget_bytes, false)
                .await;
        }
        every.insert("errorcode".to_string());
        let all: BTreeSet<String> = every.union(&needs.errors).cloned().collect();
        // Trail files: one read, each record decoded with the columns its error code calls for.
        if let Some(files) = trail.downcast_ref::<CloudTrailTable>() {
            // The window's condition reads every record's time, whatever the queries read.
            let light = every
                .iter()
                .fold(ColumnSet::NONE.with_name("eventtime"), |set, name| {
                    set.with_name(name)
                });
            let window_read: Arc<dyn TableProvider> = Arc::new(
                files
                    .reading_failed_calls_whole(light, needs.whole_event_name_prefixes)
                    .reading_identity(needs.identity),
            );
            self.ctx.register_table(WINDOW_READ_TABLE, window_read)?;
            let frame = self
                .prepare(&select_from(WINDOW_READ_TABLE, &all, ""), &window.params())
                .await;
            self.ctx.deregister_table(WINDOW_READ_TABLE)?;
            return self
                .cache_frames(&trail, vec![frame?], budget_bytes, false)
                .await;
        }
        // A store: two reads, the records with an error code (or a name read whole) with every
        // column, and the others with only the columns read for every record, the rest left null. Decoding every column
        // of every record would cost both time and, for the request parameters of each S3 data
        // event, most of the memory.
        let mut params = window.params();
        let mut whole = "errorcode IS NOT NULL".to_string();
        for (i, prefix) in needs.whole_event_name_prefixes.iter().enumerate() {
            whole.push_str(&format!(
                " OR coalesce(starts_with(eventname, $whole_event_name_{i}), false)"
            ));
            params.push((format!("whole_event_name_{i}"), (*prefix).to_string()));
        }
        let errors = self
            .prepare(&select(&all, &format!(" AND ({whole})")), &params)
            .await?;
        let others = self
            .prepare(&select(&every, &format!(" AND NOT ({whole})")), &params)
            .await?;
        self.cache_frames(&trail, vec![errors, others], budget_bytes, false)
            .await
    }

    /// Adds the columns of the trail `sql` reads, once DataFusion has planned it with `params`
    /// bound, to `needs`: what its scans project, and whether they read only records with an
    /// error code.
    pub async fn trail_columns(
        &self,
        sql: &str,
        params: &[(String, String)],
        needs: &mut ColumnNeeds,
    ) -> Result<(), SqlError> {
        use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};

        let trail = self.ctx.table_provider(TABLE_NAMES[0]).await?;
        let plan = self.prepare(sql, params).await?.into_optimized_plan()?;
        plan.apply(|node| {
            if let LogicalPlan::TableScan(scan) = node
                && let Ok(provider) = datafusion::datasource::source_as_provider(&scan.source)
                && Arc::ptr_eq(&provider, &trail)
            {
                let schema = scan.source.schema();
                let read = if crate::pruning::needs_error_code(&scan.filters) {
                    &mut needs.errors
                } else {
                    &mut needs.every
                };
                match &scan.projection {
                    Some(indices) => {
                        read.extend(indices.iter().map(|&i| schema.field(i).name().clone()));
                    }
                    None => read.extend(schema.fields().iter().map(|f| f.name().clone())),
                }
                // Filters the scan took over read columns the projection may not name.
                for filter in &scan.filters {
                    read.extend(filter.column_refs().into_iter().map(|c| c.name.clone()));
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        needs.identity = needs.identity.union(identity_leaves_read(&plan)?);
        Ok(())
    }

    /// Reads `frames` into memory as one table and registers it in place of `trail` under every
    /// name it has; with `views`, the Lake views are rebuilt over it too. The first frame has
    /// every column; a column another frame lacks is null in its rows.
    async fn cache_frames(
        &self,
        trail: &Arc<dyn TableProvider>,
        frames: Vec<DataFrame>,
        budget_bytes: usize,
        views: bool,
    ) -> Result<CacheOutcome, SqlError> {
        use datafusion::arrow::array::new_null_array;
        use datafusion::arrow::datatypes::{Field, Schema};
        use futures::StreamExt;

        let files_before = self.file_outcomes().files_read();
        let Some(first) = frames.first() else {
            return Ok(CacheOutcome::OverBudget { budget_bytes });
        };
        let schema = Arc::new(Schema::new(
            first
                .schema()
                .as_arrow()
                .fields()
                .iter()
                .map(|f| Field::clone(f).with_nullable(true))
                .collect::<Vec<_>>(),
        ));
        let mut batches = Vec::new();
        let (mut rows, mut bytes) = (0, 0);
        for frame in frames {
            let mut stream = frame.execute_stream().await?;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                let columns = schema
                    .fields()
                    .iter()
                    .map(|f| {
                        batch
                            .column_by_name(f.name())
                            .cloned()
                            .unwrap_or_else(|| new_null_array(f.data_type(), batch.num_rows()))
                    })
                    .collect();
                let batch = RecordBatch::try_new(schema.clone(), columns)?;
                rows += batch.num_rows();
                bytes += batch.get_array_memory_size();
                if bytes > budget_bytes {
                    return Ok(CacheOutcome::OverBudget { budget_bytes });
                }
                batches.push(batch);
            }
        }
        let batch_rows = self.ctx.copied_config().batch_size();
        let memory: Arc<dyn TableProvider> = Arc::new(HeldTable::new(schema, batches, batch_rows)?);
        let mut replaced = Vec::new();
        for catalog_name in self.ctx.catalog_names() {
            let Some(catalog) = self.ctx.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                for table_name in schema.table_names() {
                    let Some(table) = schema.table(&table_name).await? else {
                        continue;
                    };
                    let replacement = if Arc::ptr_eq(&table, trail) {
                        memory.clone()
                    } else if views
                        && table.table_type() == datafusion::logical_expr::TableType::View
                    {
                        // The only views before the user's are the Lake ones, over the trail.
                        Arc::new(crate::lake::lake_view(&self.ctx, memory.clone())?)
                    } else {
                        continue;
                    };
                    replaced.push((
                        TableReference::full(
                            catalog_name.as_str(),
                            schema_name.as_str(),
                            table_name.as_str(),
                        ),
                        replacement,
                    ));
                }
            }
        }
        for (name, table) in replaced {
            self.ctx.deregister_table(name.clone())?;
            self.ctx.register_table(name, table)?;
        }
        Ok(CacheOutcome::Cached {
            rows,
            bytes,
            files: self
                .file_outcomes()
                .files_read()
                .saturating_sub(files_before),
        })
    }

    /// Registers `batches` as a table named `name` held in memory, replacing any table of that
    /// name: what a command derives from the trail once and then queries many times.
    pub fn register_batches(
        &self,
        name: &str,
        schema: datafusion::arrow::datatypes::SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<(), SqlError> {
        let table = memory_table(schema, batches, self.ctx.copied_config().batch_size())?;
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(name, table)?;
        Ok(())
    }

    /// The names of the tables and views the session knows, as a query may write them unqualified
    /// in the default schema, qualified elsewhere; for completion.
    pub fn table_names(&self) -> Vec<String> {
        let state = self.ctx.state();
        let defaults = &state.config().options().catalog;
        let mut names = Vec::new();
        for catalog_name in self.ctx.catalog_names() {
            let Some(catalog) = self.ctx.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                if schema_name == "information_schema" {
                    continue;
                }
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                for table in schema.table_names() {
                    names.push(
                        if catalog_name == defaults.default_catalog
                            && schema_name == defaults.default_schema
                        {
                            table
                        } else if catalog_name == defaults.default_catalog {
                            format!("{schema_name}.{table}")
                        } else {
                            format!("{catalog_name}.{schema_name}.{table}")
                        },
                    );
                }
            }
        }
        names.sort();
        names.dedup();
        names
    }

    /// The columns of `table` (a name as [`table_names`](Self::table_names) gives it); `None` for
    /// a table the session does not know.
    pub async fn table_schema(
        &self,
        table: &str,
    ) -> Option<datafusion::arrow::datatypes::SchemaRef> {
        Some(self.ctx.table_provider(table).await.ok()?.schema())
    }

    /// The names of the SQL functions the session knows: DataFusion's and ctq's.
    pub fn function_names(&self) -> Vec<String> {
        let state = self.ctx.state();
        let mut names: Vec<String> = state
            .scalar_functions()
            .keys()
            .chain(state.aggregate_functions().keys())
            .chain(state.window_functions().keys())
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// The error for a store without a manifest holding `present`: one that lost it, when it holds
/// data files, or not a store at all.
fn no_manifest(store: &StoreLocation, present: &[(String, u64)]) -> SqlError {
    let data_files = present
        .iter()
        .filter(|(name, _)| ctq_store::Store::is_data_file(name))
        .count();
    if data_files > 0 {
        SqlError::Store(ctq_store::StoreError::ManifestLost {
            store: store.to_string(),
            data_files,
        })
    } else {
        SqlError::NotAStore {
            store: store.to_string(),
        }
    }
}

/// How a data file of `store` is named to the user: its path or URL.
fn store_file_path(store: &StoreLocation, name: &str) -> std::path::PathBuf {
    match store {
        StoreLocation::Local(root) => root.join(name),
        StoreLocation::S3(location) => std::path::PathBuf::from(format!(
            "{}/{name}",
            location.to_string().trim_end_matches('/')
        )),
    }
}

/// The manifest of a store a query may read: it has one, and one this ctq understands.
fn read_local_manifest(
    path: &Path,
    store: &StoreLocation,
) -> Result<ctq_store::Manifest, SqlError> {
    match std::fs::read(ctq_store::Manifest::path(path)) {
        Ok(manifest) => Ok(ctq_store::Manifest::from_bytes(
            &manifest,
            &store.to_string(),
        )?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(no_manifest(store, &ctq_store::list_local(path)?))
        }
        Err(source) => Err(SqlError::Store(ctq_store::StoreError::Io {
            action: "read",
            path: ctq_store::Manifest::path(path),
            source,
        })),
    }
}

/// ctq's functions, and the rule that prints `CAST(ipaddress AS VARCHAR)` as address text.
fn install_sql(ctx: &mut SessionContext) -> Result<(), SqlError> {
    crate::functions::register(ctx)?;
    ctx.add_analyzer_rule(Arc::new(crate::ipaddress_cast::IpAddressCasts::default()));
    Ok(())
}

/// Registers `table` under `cloudtrail`, `cloudtrail_logs` and the names the user added, and
/// with CloudTrail Lake's schema under the Lake names.
fn register_table_names(
    ctx: &SessionContext,
    table: Arc<dyn TableProvider>,
    options: &SessionOptions,
) -> Result<(), SqlError> {
    let names: BTreeSet<Vec<String>> = TABLE_NAMES
        .iter()
        .map(|name| vec![name.to_string()])
        .chain(
            options
                .extra_table_names
                .iter()
                .map(|name| crate::dialect::parse_table_name(name)),
        )
        .collect();
    for name in &names {
        register_under(ctx, name, table.clone())?;
    }
    if !options.lake_table_names.is_empty() {
        let lake: Arc<dyn TableProvider> = Arc::new(crate::lake::lake_view(ctx, table)?);
        for name in &options.lake_table_names {
            register_under(ctx, &crate::dialect::parse_table_name(name), lake.clone())?;
        }
    }
    Ok(())
}

/// Registers `table` as `parts` (`[table]`, `[schema, table]` or `[catalog, schema, table]`),
/// creating the schema and catalog a qualified name needs.
fn register_under(
    ctx: &SessionContext,
    parts: &[String],
    table: Arc<dyn TableProvider>,
) -> Result<(), SqlError> {
    let state = ctx.state();
    let defaults = &state.config().options().catalog;
    let (catalog_name, schema_name, table_name) = match parts {
        [table] => (
            defaults.default_catalog.clone(),
            defaults.default_schema.clone(),
            table,
        ),
        [schema, table] => (defaults.default_catalog.clone(), schema.clone(), table),
        [catalog, schema, table] => (catalog.clone(), schema.clone(), table),
        _ => {
            return Err(SqlError::BadTableName {
                name: parts.join("."),
            });
        }
    };
    let catalog = if let Some(catalog) = ctx.catalog(&catalog_name) {
        catalog
    } else {
        let catalog: Arc<dyn CatalogProvider> = Arc::new(MemoryCatalogProvider::new());
        ctx.register_catalog(&catalog_name, catalog.clone());
        catalog
    };
    if catalog.schema(&schema_name).is_none() {
        catalog.register_schema(&schema_name, Arc::new(MemorySchemaProvider::new()))?;
    }
    ctx.register_table(
        TableReference::full(catalog_name, schema_name, table_name.as_str()),
        table,
    )?;
    Ok(())
}

fn rewrite_context(options: &SessionOptions) -> crate::dialect::RewriteContext {
    crate::dialect::RewriteContext {
        lake_tables: options
            .lake_table_names
            .iter()
            .filter_map(|name| crate::dialect::parse_table_name(name).pop())
            .collect(),
    }
}

fn column_names(frame: &DataFrame) -> Vec<String> {
    frame
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn describe_names(names: &[&String]) -> String {
    if names.is_empty() {
        "the query has no parameters".to_string()
    } else {
        let listed: Vec<String> = names.iter().map(|n| format!("${n}")).collect();
        format!("the query's parameters are {}", listed.join(", "))
    }
}
