//! `local_date(ts, timezone)`: the calendar day of a UTC instant in an IANA time zone.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Date32Builder};
use arrow::datatypes::{DataType, Date32Type, TimeUnit, TimestampNanosecondType};
use chrono_tz::Tz;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::args::arrays;
use super::FunctionDoc;
use crate::calendar::timezone::local_day;

/// The `local_date` SQL function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LocalDate {
    signature: Signature,
}

/// Returns the function and its documentation.
pub fn udf() -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "local_date",
        signature: "local_date(ts timestamp, timezone varchar) -> date",
        description: "The calendar day of the UTC instant `ts` in the IANA time zone \
                      `timezone`; billing days are counted in the customer's zone.",
        example: "select local_date(timestamp '2026-01-31T16:00:00', 'Asia/Tokyo') -- 2026-02-01",
    };
    let signature = Signature::user_defined(Volatility::Immutable);
    (ScalarUDF::from(LocalDate { signature }), doc)
}

impl ScalarUDFImpl for LocalDate {
    fn name(&self) -> &str {
        "local_date"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return exec_err!("local_date takes 2 arguments: ts, timezone");
        }
        Ok(vec![
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            DataType::Utf8,
        ])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = arrays(&args.args, args.number_rows)?;
        let ts = arrays[0].as_primitive::<TimestampNanosecondType>();
        let zones = arrays[1].as_string::<i32>();
        let mut out = Date32Builder::with_capacity(ts.len());
        // Zones repeat within a batch, so each zone is parsed once per batch.
        let mut parsed: HashMap<&str, Tz> = HashMap::new();
        for i in 0..ts.len() {
            if ts.is_null(i) || zones.is_null(i) {
                out.append_null();
                continue;
            }
            let name = zones.value(i);
            let zone = match parsed.get(name) {
                Some(zone) => *zone,
                None => match Tz::from_str(name) {
                    Ok(zone) => *parsed.entry(name).or_insert(zone),
                    Err(_) => return exec_err!("unknown IANA time zone '{name}'"),
                },
            };
            out.append_value(Date32Type::from_naive_date(local_day(ts.value(i), zone)));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
