//! Views that are computed at most once per workbook.
//!
//! DataFusion inlines a view's plan wherever the view is used, so a view used by several
//! others is planned and executed once per use, and a deep tree of views grows
//! exponentially. The built-in views form such a tree (invoices use lines, lines use
//! period amounts, which use the periods several times). A cached view is a table whose
//! rows are the view's result, computed on the first scan and kept for the workbook's
//! lifetime, so each built-in view is computed once and later views plan against a leaf.
//! The plan is still built from the view's SQL, and nothing runs before the first query.
//!
//! A view whose rows grow with the usage (the rejects) is kept on disk instead: its rows
//! are streamed into a temporary Parquet file, which later queries scan, so memory stays
//! bounded however large the lake is.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, TableProvider, TableType};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::{collect, execute_stream, ExecutionPlan};
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use tokio::sync::OnceCell;

/// A view whose result is computed on first use and then kept.
#[derive(Debug)]
pub struct CachedView {
    name: String,
    plan: LogicalPlan,
    schema: SchemaRef,
    /// The temporary file that contains the rows, or None to keep them in memory.
    file: Option<PathBuf>,
    rows: OnceCell<Arc<dyn TableProvider>>,
}

/// Numbers the temporary files of the views kept on disk within this process.
static NEXT_FILE: AtomicU64 = AtomicU64::new(0);

impl CachedView {
    /// A cached view of `plan`, named `name` in messages.
    pub fn new(name: &str, plan: LogicalPlan) -> Self {
        // Every column is nullable: the plan's nullability is not always what execution
        // produces, and the cached batches are rewrapped in this schema.
        let schema = all_nullable(plan.schema().as_arrow());
        CachedView {
            name: name.to_string(),
            plan,
            schema,
            file: None,
            rows: OnceCell::new(),
        }
    }

    /// Returns a cached view of `plan` whose rows are kept in a temporary Parquet file,
    /// removed when the view is dropped.
    pub fn on_disk(name: &str, plan: LogicalPlan) -> Self {
        let number = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
        let file = std::env::temp_dir().join(format!(
            "billsheet-{}-{number}-{name}.parquet",
            std::process::id()
        ));
        let mut view = CachedView::new(name, plan);
        view.file = Some(file);
        view
    }

    async fn rows(&self, state: &dyn Session) -> Result<Arc<dyn TableProvider>> {
        let table = self
            .rows
            .get_or_try_init(|| async {
                let started = std::time::Instant::now();
                crate::progress::view_started(&self.name);
                let (table, rows) = match &self.file {
                    None => self.compute_in_memory(state).await?,
                    Some(file) => self.compute_on_disk(state, file).await?,
                };
                log::debug!(
                    "view {} computed: {rows} rows in {:?}",
                    self.name,
                    started.elapsed()
                );
                crate::progress::view_done();
                Ok::<_, DataFusionError>(table)
            })
            .await?;
        Ok(table.clone())
    }

    async fn compute_in_memory(
        &self,
        state: &dyn Session,
    ) -> Result<(Arc<dyn TableProvider>, usize)> {
        let physical = state.create_physical_plan(&self.plan).await?;
        let batches = collect(physical, state.task_ctx())
            .await?
            .into_iter()
            .map(|b| conform(&self.schema, &b))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let table = MemTable::try_new(self.schema.clone(), vec![batches])?;
        Ok((Arc::new(table), rows))
    }

    async fn compute_on_disk(
        &self,
        state: &dyn Session,
        file: &std::path::Path,
    ) -> Result<(Arc<dyn TableProvider>, usize)> {
        let physical = state.create_physical_plan(&self.plan).await?;
        let mut stream = execute_stream(physical, state.task_ctx())?;
        let mut writer = ArrowWriter::try_new(
            std::fs::File::create(file)?,
            self.schema.clone(),
            None,
        )?;
        let mut rows = 0;
        while let Some(batch) = stream.next().await {
            let batch = conform(&self.schema, &batch?)?;
            rows += batch.num_rows();
            writer.write(&batch)?;
        }
        writer.close()?;
        let url = ListingTableUrl::parse(file.to_string_lossy())?;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet");
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(self.schema.clone());
        Ok((Arc::new(ListingTable::try_new(config)?), rows))
    }
}

impl Drop for CachedView {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Returns `schema` with every field nullable.
pub(crate) fn all_nullable(schema: &arrow::datatypes::Schema) -> SchemaRef {
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    Arc::new(arrow::datatypes::Schema::new(fields))
}

/// Rewraps a batch in `schema`, casting columns whose type the physical plan chose
/// differently from the logical plan (as unions of decimals can).
fn conform(schema: &SchemaRef, batch: &RecordBatch) -> arrow::error::Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(column.clone())
            } else {
                arrow::compute::cast(column, field.data_type())
            }
        })
        .collect::<arrow::error::Result<Vec<_>>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

#[async_trait]
impl TableProvider for CachedView {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.rows(state)
            .await?
            .scan(state, projection, filters, limit)
            .await
    }
}
