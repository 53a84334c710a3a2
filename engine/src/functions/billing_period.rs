//! `billing_period_start(day, anchor, interval)` and `billing_period_end(...)`: the grid
//! period of a billing anchor that contains a day.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Date32Builder};
use arrow::datatypes::{DataType, Date32Type};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::args::arrays;
use super::FunctionDoc;
use crate::calendar::{period_containing, Interval};

/// The boundary of the period that the function returns.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Edge {
    Start,
    End,
}

/// The `billing_period_start` and `billing_period_end` SQL functions.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BillingPeriod {
    signature: Signature,
    edge: Edge,
}

/// Returns `billing_period_start` and its documentation.
pub fn start_udf() -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "billing_period_start",
        signature: "billing_period_start(day date, anchor date, interval varchar) -> date",
        description: "First day of the period of the anchor's grid (`month`, `quarter` or \
                      `year`) that contains `day`; anchors past the 28th clamp to month ends.",
        example: "select billing_period_start(date '2026-03-15', date '2026-01-31', 'month') \
                  -- 2026-02-28",
    };
    (make(Edge::Start), doc)
}

/// Returns `billing_period_end` and its documentation.
pub fn end_udf() -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "billing_period_end",
        signature: "billing_period_end(day date, anchor date, interval varchar) -> date",
        description:
            "First day after the period of the anchor's grid that contains `day` \
                      (periods are half-open: start inclusive, end exclusive).",
        example:
            "select billing_period_end(date '2026-03-15', date '2026-01-31', 'month') \
                  -- 2026-03-31",
    };
    (make(Edge::End), doc)
}

fn make(edge: Edge) -> ScalarUDF {
    let signature = Signature::exact(
        vec![DataType::Date32, DataType::Date32, DataType::Utf8],
        Volatility::Immutable,
    );
    ScalarUDF::from(BillingPeriod { signature, edge })
}

impl ScalarUDFImpl for BillingPeriod {
    fn name(&self) -> &str {
        match self.edge {
            Edge::Start => "billing_period_start",
            Edge::End => "billing_period_end",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = arrays(&args.args, args.number_rows)?;
        let days = arrays[0].as_primitive::<Date32Type>();
        let anchors = arrays[1].as_primitive::<Date32Type>();
        let intervals = arrays[2].as_string::<i32>();
        let mut out = Date32Builder::with_capacity(days.len());
        for i in 0..days.len() {
            if days.is_null(i) || anchors.is_null(i) || intervals.is_null(i) {
                out.append_null();
                continue;
            }
            let Some(interval) = Interval::parse(intervals.value(i)) else {
                return exec_err!("invalid billing interval '{}'", intervals.value(i));
            };
            let day = Date32Type::to_naive_date_opt(days.value(i)).expect("valid date");
            let anchor =
                Date32Type::to_naive_date_opt(anchors.value(i)).expect("valid date");
            let (start, end) = period_containing(day, anchor, interval);
            let edge = if self.edge == Edge::Start { start } else { end };
            out.append_value(Date32Type::from_naive_date(edge));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
