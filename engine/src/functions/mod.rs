//! billsheet's SQL functions: exact money and the billing calendar, registered with
//! DataFusion for the built-in views and for analysts' own queries.
//!
//! Each function is one file with its implementation, its documentation and its tests.

pub mod add_days;
mod args;
pub mod billing_period;
pub mod billing_periods;
pub mod currency_minor_units;
pub mod days_between;
pub mod latest_value;
pub mod local_date;
pub mod money_amount;
pub mod parameters;
pub mod prorate;
pub mod rate_tiers;
pub mod round_money;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionContext;

/// The documentation `billsheet functions` prints for one function.
#[derive(Debug, Clone)]
pub struct FunctionDoc {
    pub name: &'static str,
    pub signature: &'static str,
    pub description: &'static str,
    pub example: &'static str,
}

/// Every function billsheet adds, with its documentation.
pub fn all_functions() -> Vec<(ScalarUDF, FunctionDoc)> {
    vec![
        local_date::udf(),
        billing_period::start_udf(),
        billing_period::end_udf(),
        billing_periods::udf(),
        days_between::udf(),
        add_days::udf(),
        rate_tiers::udf(),
        money_amount::udf(),
        prorate::udf(),
        round_money::udf(),
        currency_minor_units::udf(),
    ]
}

/// Every aggregate function billsheet adds, with its documentation.
pub fn aggregate_functions() -> Vec<(AggregateUDF, FunctionDoc)> {
    vec![latest_value::udaf()]
}

/// The functions that return a workbook's parameters, with their documentation.
pub fn parameter_functions(
    as_of: chrono::NaiveDate,
    reporting_currency: &str,
) -> Vec<(ScalarUDF, FunctionDoc)> {
    vec![
        parameters::as_of_udf(as_of),
        parameters::reporting_currency_udf(reporting_currency),
    ]
}

/// Registers every billsheet function with `ctx`.
pub fn register_all(ctx: &SessionContext) {
    for (udf, _) in all_functions() {
        ctx.register_udf(udf);
    }
    for (udaf, _) in aggregate_functions() {
        ctx.register_udaf(udaf);
    }
}
