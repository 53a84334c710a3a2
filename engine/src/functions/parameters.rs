//! `as_of_date()` and `reporting_currency()`: the workbook's parameters as SQL functions.
//!
//! The views compare dates with the as-of date in many places. A cross join with the
//! one-row view `billing_parameters` hides the value from the optimizer, and DataFusion
//! plans it as a nested loop join over every row of the other side. These functions are
//! immutable and take no arguments, so the optimizer replaces each call by its value.
//! Filters on the as-of date then become literal comparisons that can reach the Parquet
//! scan, and a distributed plan carries the literal, not the function.

use chrono::NaiveDate;
use datafusion::arrow::datatypes::{DataType, Date32Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::FunctionDoc;

/// A SQL function without arguments that returns one fixed value.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Parameter {
    name: &'static str,
    value: ScalarValue,
    signature: Signature,
}

impl Parameter {
    fn new(name: &'static str, value: ScalarValue) -> Parameter {
        Parameter {
            name,
            value,
            signature: Signature::nullary(Volatility::Immutable),
        }
    }
}

/// Returns `as_of_date()`, fixed to `as_of`, and its documentation.
pub fn as_of_udf(as_of: NaiveDate) -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "as_of_date",
        signature: "as_of_date() -> date",
        description: "The workbook's as-of date: the day of the run (--as-of).",
        example: "select * from invoices where due_date < as_of_date()",
    };
    let value = ScalarValue::Date32(Some(Date32Type::from_naive_date(as_of)));
    (ScalarUDF::from(Parameter::new("as_of_date", value)), doc)
}

/// Returns `reporting_currency()`, fixed to `currency`, and its documentation.
pub fn reporting_currency_udf(currency: &str) -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "reporting_currency",
        signature: "reporting_currency() -> varchar",
        description:
            "The currency of the metrics views (--reporting-currency, default USD).",
        example: "select reporting_currency() -- 'USD'",
    };
    let value = ScalarValue::Utf8(Some(currency.to_string()));
    (
        ScalarUDF::from(Parameter::new("reporting_currency", value)),
        doc,
    )
}

impl ScalarUDFImpl for Parameter {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.value.data_type())
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(self.value.clone()))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::*;

    #[tokio::test]
    async fn parameters_fold_into_literals() {
        let ctx = SessionContext::new();
        let as_of = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
        ctx.register_udf(as_of_udf(as_of).0);
        ctx.register_udf(reporting_currency_udf("EUR").0);

        let frame = ctx
            .sql("select as_of_date() as d, reporting_currency() as c")
            .await
            .unwrap();
        let plan = frame.clone().into_optimized_plan().unwrap();
        let text = format!("{}", plan.display_indent());
        assert!(!text.contains("as_of_date()"), "not folded: {text}");
        assert!(!text.contains("reporting_currency()"), "not folded: {text}");

        let batches = frame.collect().await.unwrap();
        let printed = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert!(printed.contains("2026-03-31"), "{printed}");
        assert!(printed.contains("EUR"), "{printed}");
    }
}
