//! The workbook: a lake opened for one as-of date, with every input, function and view
//! registered in a DataFusion session. Nothing is computed until a view is queried.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};

use crate::error::{BillsheetError, Result};
use crate::lake::{self, schema, validate::ensure_valid, TableSource};
use crate::{functions, views};

/// Settings of a workbook.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// The day of the run: views show what is known and issued through its end.
    pub as_of: NaiveDate,
    /// The currency of metrics.
    pub reporting_currency: String,
    /// A memory limit for query execution in bytes; operators spill to disk beyond it.
    pub memory_limit: Option<usize>,
}

impl OpenOptions {
    /// Options for `as_of` with the defaults: USD reporting, no memory limit.
    pub fn new(as_of: NaiveDate) -> Self {
        OpenOptions {
            as_of,
            reporting_currency: "USD".to_string(),
            memory_limit: None,
        }
    }
}

/// A lake opened for one as-of date.
///
/// # Example
/// ```no_run
/// # async fn example() -> billsheet::Result<()> {
/// use billsheet::{OpenOptions, Workbook};
/// let as_of = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
/// let workbook = Workbook::open("data/sample", OpenOptions::new(as_of)).await?;
/// let invoices = workbook.sql("select * from invoices").await?.collect().await?;
/// # Ok(()) }
/// ```
pub struct Workbook {
    ctx: SessionContext,
    lake: PathBuf,
    options: OpenOptions,
    sources: Vec<(String, TableSource)>,
}

impl Workbook {
    /// Opens the lake at `lake`: finds and validates its inputs and defines every view.
    ///
    /// # Errors
    /// `InvalidInput` listing every problem when an input other than `usage` breaks the
    /// data contract; `Request` when a required table is missing or the reporting currency
    /// is not an active ISO 4217 code.
    pub async fn open(lake: impl AsRef<Path>, options: OpenOptions) -> Result<Workbook> {
        let lake = lake.as_ref().to_path_buf();
        let currency = &options.reporting_currency;
        if crate::money::minor_units(currency).is_none() {
            return Err(BillsheetError::Request(format!(
                "invalid reporting currency '{currency}': expected an active ISO 4217 code \
                 in capitals, such as USD or EUR"
            )));
        }
        let sources = lake::find_sources(&lake)?;
        let ctx = new_context(&options)?;
        let workbook = Workbook {
            ctx,
            lake,
            options,
            sources,
        };
        workbook.define().await?;
        Ok(workbook)
    }

    /// Validates the inputs and (re)creates the input tables, parameters and views.
    async fn define(&self) -> Result<()> {
        ensure_valid(lake::validate_inputs(&self.sources)?)?;
        functions::register_all(&self.ctx);
        for name in self.view_names().await? {
            self.ctx.deregister_table(name.as_str())?;
        }
        lake::register_inputs(&self.ctx, &self.sources).await?;
        let parameters = functions::parameter_functions(
            self.options.as_of,
            &self.options.reporting_currency,
        );
        for (udf, _) in parameters {
            self.ctx.register_udf(udf);
        }
        self.ctx
            .sql(
                "create view billing_parameters as \
                 select as_of_date() as as_of, reporting_currency() as reporting_currency",
            )
            .await?
            .collect()
            .await?;
        views::create_builtin_views(&self.ctx).await?;
        views::create_lake_views(&self.ctx, &self.lake).await?;
        Ok(())
    }

    /// The names of the views defined in the session.
    async fn view_names(&self) -> Result<Vec<String>> {
        let catalog = self.ctx.catalog("datafusion").expect("default catalog");
        let schema = catalog.schema("public").expect("default schema");
        let mut names = Vec::new();
        for name in schema.table_names() {
            if let Some(table) = schema.table(&name).await? {
                if table.table_type() == datafusion::datasource::TableType::View {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }

    /// Runs one SQL statement against the workbook.
    pub async fn sql(&self, query: &str) -> Result<DataFrame> {
        Ok(self.ctx.sql(query).await?)
    }

    /// Returns a view or table by name.
    pub async fn table(&self, name: &str) -> Result<DataFrame> {
        match self.ctx.table(name).await {
            Ok(frame) => Ok(frame),
            Err(_) => Err(BillsheetError::Request(format!(
                "table or view {name} not found"
            ))),
        }
    }

    /// Replaces an input table, or adds a table, with in-memory batches, then redefines
    /// every view so that they read it. Nothing on disk changes.
    pub async fn register_batches(
        &mut self,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        let source = TableSource::Batches { batches, schema };
        if schema::input_table(name).is_some() {
            let previous = self.sources.clone();
            self.sources.retain(|(n, _)| n != name);
            self.sources.push((name.to_string(), source));
            let order = |n: &str| schema::INPUT_TABLES.iter().position(|t| t.name == n);
            self.sources.sort_by_key(|(n, _)| order(n));
            let defined = self.define().await;
            if defined.is_err() {
                // A rejected table leaves the workbook as it was.
                self.sources = previous;
                self.define().await?;
            }
            defined
        } else {
            let TableSource::Batches { batches, schema } = source else {
                unreachable!()
            };
            let table = datafusion::datasource::MemTable::try_new(schema, vec![batches])?;
            self.ctx.deregister_table(name)?;
            self.ctx.register_table(name, Arc::new(table))?;
            Ok(())
        }
    }

    /// The DataFusion session, for callers that build their own plans.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The lake folder.
    pub fn lake(&self) -> &Path {
        &self.lake
    }

    /// The workbook's options.
    pub fn options(&self) -> &OpenOptions {
        &self.options
    }

    /// The input tables found in the lake and where they come from.
    pub fn sources(&self) -> &[(String, TableSource)] {
        &self.sources
    }
}

fn new_context(options: &OpenOptions) -> Result<SessionContext> {
    // DATAFUSION_* environment variables tune the engine, for example
    // DATAFUSION_EXECUTION_TARGET_PARTITIONS=4.
    let config = SessionConfig::from_env().map_err(|error| {
        BillsheetError::Request(format!(
            "a DATAFUSION_* environment variable has an invalid value: {error}"
        ))
    })?;
    let mut config = config.with_information_schema(true);
    let settings = config.options_mut();
    let unset = |name: &str| std::env::var_os(name).is_none();
    if unset("DATAFUSION_EXECUTION_TARGET_PARTITIONS") {
        // Two partitions per core keep both cores busy while one partition waits on a
        // scan or a repartition. On 10M events and two cores, a run took 34 s instead of
        // 38 s with the default of one per core, and wrote the same bytes.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        settings.execution.target_partitions = 2 * cores;
    }
    // Joins of the events with a table of up to a few million rows (repeated event ids,
    // unmatched days) build one shared hash table instead of repartitioning every event
    // by the join key. A run on 10M events took 23 s instead of 26 s.
    if unset("DATAFUSION_OPTIMIZER_HASH_JOIN_SINGLE_PARTITION_THRESHOLD") {
        settings.optimizer.hash_join_single_partition_threshold = 64 << 20;
    }
    if unset("DATAFUSION_OPTIMIZER_HASH_JOIN_SINGLE_PARTITION_THRESHOLD_ROWS") {
        settings.optimizer.hash_join_single_partition_threshold_rows = 4 << 20;
    }
    settings.sql_parser.map_string_types_to_utf8view = false;
    settings.execution.parquet.schema_force_view_types = false;
    let mut runtime = RuntimeEnvBuilder::new();
    if let (Some(limit), true) = (
        options.memory_limit,
        unset("DATAFUSION_EXECUTION_SORT_SPILL_RESERVATION_BYTES"),
    ) {
        // A sort that spilled merges its runs within memory it reserved before spilling.
        // DataFusion's 10 MiB made the merge of a 100M-event run's rejects fail under a
        // 4G limit; 1/32 of the limit (at most 128 MiB) completed it.
        settings.execution.sort_spill_reservation_bytes =
            (limit / 32).clamp(10 << 20, 128 << 20);
    }
    if let Some(limit) = options.memory_limit {
        // A fair pool splits the limit among the operators that can spill, so one
        // aggregation cannot take it all and fail the others.
        let pool = datafusion::execution::memory_pool::FairSpillPool::new(limit);
        runtime = runtime.with_memory_pool(std::sync::Arc::new(pool));
    }
    Ok(SessionContext::new_with_config_rt(
        config,
        runtime.build_arc()?,
    ))
}
