//! `currency_minor_units(currency)`: the ISO 4217 minor unit of a currency code.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Int32Builder};
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::args::arrays;
use super::FunctionDoc;
use crate::money::minor_units;

/// The `currency_minor_units` SQL function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CurrencyMinorUnits {
    signature: Signature,
}

/// Returns the function and its documentation.
pub fn udf() -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "currency_minor_units",
        signature: "currency_minor_units(currency varchar) -> int",
        description:
            "Digits after the decimal point of an ISO 4217 currency; null for a \
                      code that is not an active currency.",
        example:
            "select currency_minor_units('JPY'), currency_minor_units('KWD') -- 0, 3",
    };
    let signature = Signature::exact(vec![DataType::Utf8], Volatility::Immutable);
    (ScalarUDF::from(CurrencyMinorUnits { signature }), doc)
}

impl ScalarUDFImpl for CurrencyMinorUnits {
    fn name(&self) -> &str {
        "currency_minor_units"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = arrays(&args.args, args.number_rows)?;
        let codes = arrays[0].as_string::<i32>();
        let mut out = Int32Builder::with_capacity(codes.len());
        for i in 0..codes.len() {
            let digits = (!codes.is_null(i))
                .then(|| minor_units(codes.value(i)))
                .flatten();
            out.append_option(digits.map(|d| d as i32));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
