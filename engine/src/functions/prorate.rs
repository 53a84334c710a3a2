//! `prorate(amount, part, whole)`: the share `part / whole` of an amount, unrounded.

use std::sync::Arc;

use arrow::array::Decimal128Builder;
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::args::{arrays, coerce_numeric, DecimalColumn};
use super::rate_tiers::AMOUNT_SCALE;
use super::FunctionDoc;
use crate::money::decimal::to_i128;

/// The `prorate` SQL function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Prorate {
    signature: Signature,
}

/// Returns the function and its documentation.
pub fn udf() -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "prorate",
        signature:
            "prorate(amount decimal, part decimal, whole decimal) -> decimal(38, 16)",
        description: "amount × part / whole with 28 significant digits and 16 decimal \
                      places, for shares by days that are summed before one rounding.",
        example: "select prorate(1000, 15, 31) -- 483.8709677419354839",
    };
    let signature = Signature::user_defined(Volatility::Immutable);
    (ScalarUDF::from(Prorate { signature }), doc)
}

impl ScalarUDFImpl for Prorate {
    fn name(&self) -> &str {
        "prorate"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 3 {
            return exec_err!("prorate takes 3 arguments: amount, part, whole");
        }
        Ok(coerce_numeric(arg_types))
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, AMOUNT_SCALE))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = arrays(&args.args, args.number_rows)?;
        let amounts = DecimalColumn::new(&arrays[0], "amount")?;
        let parts = DecimalColumn::new(&arrays[1], "part")?;
        let wholes = DecimalColumn::new(&arrays[2], "whole")?;
        let rows = arrays[0].len();
        let mut out = Decimal128Builder::with_capacity(rows);
        for i in 0..rows {
            let (Some(amount), Some(part), Some(whole)) =
                (amounts.get(i)?, parts.get(i)?, wholes.get(i)?)
            else {
                out.append_null();
                continue;
            };
            if whole.is_zero() {
                return exec_err!("prorate: whole is zero");
            }
            let Some(value) = amount
                .normalize()
                .checked_mul(part)
                .and_then(|v| v.checked_div(whole))
            else {
                return exec_err!("prorate: {amount} × {part} / {whole} overflows");
            };
            match to_i128(value, AMOUNT_SCALE) {
                Some(mantissa) => out.append_value(mantissa),
                None => return exec_err!("prorate: {value} does not fit"),
            }
        }
        let array = out.finish().with_precision_and_scale(38, AMOUNT_SCALE)?;
        Ok(ColumnarValue::Array(Arc::new(array)))
    }
}
