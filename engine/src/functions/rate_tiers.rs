//! `rate_tiers(model, quantity, up_tos, unit_prices, flat_fees, package_size)`: the exact
//! cost of a quantity under a tier list.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Decimal128Builder};
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use rust_decimal::Decimal;

use super::args::{arrays, coerce_numeric, decimal_list, DecimalColumn};
use super::FunctionDoc;
use crate::money::decimal::to_i128;
use crate::rating::{rate, PricingModel, Tier};

/// Scale of unrounded amounts: exact for prices and quantities of up to 16 decimals.
pub const AMOUNT_SCALE: i8 = 16;

/// The `rate_tiers` SQL function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RateTiers {
    signature: Signature,
}

/// Returns the function and its documentation.
pub fn udf() -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "rate_tiers",
        signature: "rate_tiers(model varchar, quantity decimal, up_tos list<decimal>, \
                    unit_prices list<decimal>, flat_fees list<decimal>, package_size decimal) \
                    -> decimal(38, 16)",
        description: "Unrounded cost of `quantity` for one period under the pricing model \
                      (`flat`, `per_unit`, `graduated`, `volume`, `package`) and the tier \
                      lists in tier order. Tier bounds are inclusive; zero costs nothing.",
        example: "select rate_tiers('graduated', 6200, [1000, 5000, null], \
                  [0.10, 0.08, 0.05], [0, 0, 0], null) -- 480",
    };
    let signature = Signature::user_defined(Volatility::Immutable);
    (ScalarUDF::from(RateTiers { signature }), doc)
}

impl ScalarUDFImpl for RateTiers {
    fn name(&self) -> &str {
        "rate_tiers"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 6 {
            return exec_err!(
                "rate_tiers takes 6 arguments: model, quantity, up_tos, unit_prices, \
                 flat_fees, package_size"
            );
        }
        let mut types = coerce_numeric(arg_types);
        types[0] = DataType::Utf8;
        Ok(types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, AMOUNT_SCALE))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = arrays(&args.args, args.number_rows)?;
        let models = arrays[0].as_string::<i32>();
        let quantities = DecimalColumn::new(&arrays[1], "quantity")?;
        let package_sizes = DecimalColumn::new(&arrays[5], "package_size")?;
        let mut out = Decimal128Builder::with_capacity(models.len());
        for i in 0..models.len() {
            let (Some(quantity), false) = (quantities.get(i)?, models.is_null(i)) else {
                out.append_null();
                continue;
            };
            let Some(model) = PricingModel::parse(models.value(i)) else {
                return exec_err!("invalid pricing model '{}'", models.value(i));
            };
            let up_tos = decimal_list(&arrays[2], i, "up_tos")?;
            let prices = decimal_list(&arrays[3], i, "unit_prices")?;
            let fees = decimal_list(&arrays[4], i, "flat_fees")?;
            let tiers: Vec<Tier> = (0..up_tos.len())
                .map(|t| Tier {
                    up_to: up_tos[t],
                    unit_price: prices.get(t).copied().flatten().unwrap_or(Decimal::ZERO),
                    flat_fee: fees.get(t).copied().flatten().unwrap_or(Decimal::ZERO),
                })
                .collect();
            let amount = match rate(model, quantity, &tiers, package_sizes.get(i)?) {
                Ok(amount) => amount,
                Err(message) => return exec_err!("rate_tiers: {message}"),
            };
            match to_i128(amount, AMOUNT_SCALE) {
                Some(mantissa) => out.append_value(mantissa),
                None => return exec_err!("rate_tiers: amount {amount} does not fit"),
            }
        }
        let array = out.finish().with_precision_and_scale(38, AMOUNT_SCALE)?;
        Ok(ColumnarValue::Array(Arc::new(array)))
    }
}
