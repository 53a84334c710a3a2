//! Views that are computed at most once per workbook.
//!
//! DataFusion inlines a view's plan wherever the view is used, so a view used by several
//! others is planned and executed once per use, and a deep tree of views grows
//! exponentially. The built-in views form such a tree (invoices use lines, lines use
//! period amounts, which use the periods several times). A cached view is a table whose
//! rows are the view's result, computed on the first scan and kept for the workbook's
//! lifetime, so each built-in view is computed once and later views plan against a leaf.
//! The plan is still built from the view's SQL, and nothing runs before the first query.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::datasource::{MemTable, TableProvider, TableType};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::{collect, ExecutionPlan};
use tokio::sync::OnceCell;

/// A view whose result is computed on first use and then kept.
#[derive(Debug)]
pub struct CachedView {
    name: String,
    plan: LogicalPlan,
    schema: SchemaRef,
    rows: OnceCell<Arc<MemTable>>,
}

impl CachedView {
    /// A cached view of `plan`, named `name` in messages.
    pub fn new(name: &str, plan: LogicalPlan) -> Self {
        // Every column is nullable: the plan's nullability is not always what execution
        // produces, and the cached batches are rewrapped in this schema.
        let fields: Vec<_> = plan
            .schema()
            .as_arrow()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect();
        let schema = Arc::new(arrow::datatypes::Schema::new(fields));
        CachedView {
            name: name.to_string(),
            plan,
            schema,
            rows: OnceCell::new(),
        }
    }

    async fn rows(&self, state: &dyn Session) -> Result<Arc<MemTable>> {
        let table =
            self.rows
                .get_or_try_init(|| async {
                    let started = std::time::Instant::now();
                    crate::progress::view_started(&self.name);
                    let physical = state.create_physical_plan(&self.plan).await?;
                    let batches = collect(physical, state.task_ctx())
                        .await?
                        .into_iter()
                        .map(|b| conform(&self.schema, &b))
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
                    log::debug!(
                        "view {} computed: {rows} rows in {:?}",
                        self.name,
                        started.elapsed()
                    );
                    crate::progress::view_done();
                    Ok::<_, datafusion::error::DataFusionError>(Arc::new(
                        MemTable::try_new(self.schema.clone(), vec![batches])?,
                    ))
                })
                .await?;
        Ok(table.clone())
    }
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
