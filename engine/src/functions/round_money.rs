//! `round_money(amount, currency)`: rounds half away from zero to a currency's minor unit.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Decimal128Builder};
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{arrays, coerce_numeric, DecimalColumn};
use super::money_amount::MONEY_SCALE;
use super::FunctionDoc;
use crate::money::decimal::{round_money, to_i128};
use crate::money::minor_units;

/// The `round_money` SQL function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RoundMoney {
    signature: Signature,
}

/// Returns the function and its documentation.
pub fn udf() -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "round_money",
        signature: "round_money(amount decimal, currency varchar) -> decimal(38, 4)",
        description: "Rounds half away from zero to the minor unit of the ISO 4217 \
                      `currency` (2 for USD and EUR, 0 for JPY, 3 for KWD).",
        example: "select round_money(4.5, 'JPY'), round_money(0.125, 'USD') -- 5, 0.13",
    };
    let signature = Signature::user_defined(Volatility::Immutable);
    (ScalarUDF::from(RoundMoney { signature }), doc)
}

impl ScalarUDFImpl for RoundMoney {
    fn name(&self) -> &str {
        "round_money"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return exec_err!("round_money takes 2 arguments: amount, currency");
        }
        let mut types = coerce_numeric(arg_types);
        types[1] = DataType::Utf8;
        Ok(types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, MONEY_SCALE))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = arrays(&args.args, args.number_rows)?;
        let amounts = DecimalColumn::new(&arrays[0], "amount")?;
        let currencies = arrays[1].as_string::<i32>();
        let mut out = Decimal128Builder::with_capacity(currencies.len());
        for i in 0..currencies.len() {
            let (Some(amount), false) = (amounts.get(i)?, currencies.is_null(i)) else {
                out.append_null();
                continue;
            };
            let Some(digits) = minor_units(currencies.value(i)) else {
                return exec_err!("unknown currency '{}'", currencies.value(i));
            };
            let value = round_money(amount, digits);
            match to_i128(value, MONEY_SCALE) {
                Some(mantissa) => out.append_value(mantissa),
                None => return exec_err!("round_money: {value} does not fit"),
            }
        }
        let array = out.finish().with_precision_and_scale(38, MONEY_SCALE)?;
        Ok(ColumnarValue::Array(Arc::new(array)))
    }
}
