//! `billing_periods(from, to, anchor, interval)`: the grid periods that overlap a range,
//! as a list to `unnest`.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Date32Builder, ListBuilder};
use arrow::datatypes::{DataType, Date32Type, Field};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::args::arrays;
use super::FunctionDoc;
use crate::calendar::{grid_starts, Interval};

/// The `billing_periods` SQL function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BillingPeriods {
    signature: Signature,
}

/// Returns the function and its documentation.
pub fn udf() -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "billing_periods",
        signature: "billing_periods(from date, to date, anchor date, interval varchar) \
                    -> list<date>",
        description: "Start days of the anchor's grid periods that overlap [from, to), in \
                      order; `unnest` turns them into rows. A null `to` yields no periods.",
        example: "select unnest(billing_periods(date '2026-01-15', date '2026-04-01', \
                  date '2026-01-01', 'month')) -- 2026-01-01, 2026-02-01, 2026-03-01",
    };
    let signature = Signature::exact(
        vec![
            DataType::Date32,
            DataType::Date32,
            DataType::Date32,
            DataType::Utf8,
        ],
        Volatility::Immutable,
    );
    (ScalarUDF::from(BillingPeriods { signature }), doc)
}

impl ScalarUDFImpl for BillingPeriods {
    fn name(&self) -> &str {
        "billing_periods"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Date32,
            true,
        ))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = arrays(&args.args, args.number_rows)?;
        let from = arrays[0].as_primitive::<Date32Type>();
        let to = arrays[1].as_primitive::<Date32Type>();
        let anchors = arrays[2].as_primitive::<Date32Type>();
        let intervals = arrays[3].as_string::<i32>();
        let mut out = ListBuilder::new(Date32Builder::new());
        for i in 0..from.len() {
            if from.is_null(i)
                || to.is_null(i)
                || anchors.is_null(i)
                || intervals.is_null(i)
            {
                out.append(true);
                continue;
            }
            let Some(interval) = Interval::parse(intervals.value(i)) else {
                return exec_err!("invalid billing interval '{}'", intervals.value(i));
            };
            let date = |v: i32| Date32Type::to_naive_date_opt(v).expect("valid date");
            let starts = grid_starts(
                date(from.value(i)),
                date(to.value(i)),
                date(anchors.value(i)),
                interval,
            );
            for start in starts {
                out.values()
                    .append_value(Date32Type::from_naive_date(start));
            }
            out.append(true);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
