//! `money_amount(amount, divisor, fx_multiplier, fx_divisor, currency)`: an invoice line's
//! amount, prorated, converted and rounded once to the currency's minor unit.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Decimal128Builder};
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use rust_decimal::Decimal;

use super::args::{arrays, coerce_numeric, DecimalColumn};
use super::FunctionDoc;
use crate::money::decimal::{round_money, to_i128};
use crate::money::minor_units;

/// Scale of money columns: enough for every ISO 4217 minor unit (CLF and UYW have 4).
pub const MONEY_SCALE: i8 = 4;

/// The `money_amount` SQL function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MoneyAmount {
    signature: Signature,
}

/// Returns the function and its documentation.
pub fn udf() -> (ScalarUDF, FunctionDoc) {
    let doc = FunctionDoc {
        name: "money_amount",
        signature:
            "money_amount(amount decimal, divisor decimal, fx_multiplier decimal, \
                    fx_divisor decimal, currency varchar) -> decimal(38, 4)",
        description:
            "amount × fx_multiplier / (divisor × fx_divisor), computed exactly and \
                      rounded once, half away from zero, to the minor unit of `currency` \
                      (ISO 4217). Proration passes the sum of segment cost × days as \
                      `amount` and the period's days as `divisor`.",
        example: "select money_amount(300 * 16, 31, 1, 1, 'USD') -- 154.84",
    };
    let signature = Signature::user_defined(Volatility::Immutable);
    (ScalarUDF::from(MoneyAmount { signature }), doc)
}

/// Computes one line amount; `None` inputs give `None`.
pub fn line_amount(
    amount: Decimal,
    divisor: Decimal,
    multiplier: Decimal,
    fx_divisor: Decimal,
    digits: u32,
) -> std::result::Result<Decimal, String> {
    let scaled = amount
        .normalize()
        .checked_mul(multiplier.normalize())
        .ok_or("amount overflows 28 digits")?;
    let denominator = divisor.checked_mul(fx_divisor).ok_or("divisor overflows")?;
    if denominator.is_zero() {
        return Err("division by zero".into());
    }
    let value = scaled
        .checked_div(denominator)
        .ok_or("amount overflows 28 digits")?;
    Ok(round_money(value, digits))
}

impl ScalarUDFImpl for MoneyAmount {
    fn name(&self) -> &str {
        "money_amount"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 5 {
            return exec_err!(
                "money_amount takes 5 arguments: amount, divisor, fx_multiplier, fx_divisor, \
                 currency"
            );
        }
        let mut types = coerce_numeric(arg_types);
        types[4] = DataType::Utf8;
        Ok(types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, MONEY_SCALE))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = arrays(&args.args, args.number_rows)?;
        let amounts = DecimalColumn::new(&arrays[0], "amount")?;
        let divisors = DecimalColumn::new(&arrays[1], "divisor")?;
        let multipliers = DecimalColumn::new(&arrays[2], "fx_multiplier")?;
        let fx_divisors = DecimalColumn::new(&arrays[3], "fx_divisor")?;
        let currencies = arrays[4].as_string::<i32>();
        let mut out = Decimal128Builder::with_capacity(currencies.len());
        for i in 0..currencies.len() {
            let values = (
                amounts.get(i)?,
                divisors.get(i)?,
                multipliers.get(i)?,
                fx_divisors.get(i)?,
            );
            let (Some(amount), Some(divisor), Some(multiplier), Some(fx_divisor)) =
                values
            else {
                out.append_null();
                continue;
            };
            if currencies.is_null(i) {
                out.append_null();
                continue;
            }
            let Some(digits) = minor_units(currencies.value(i)) else {
                return exec_err!("unknown currency '{}'", currencies.value(i));
            };
            let value = match line_amount(amount, divisor, multiplier, fx_divisor, digits)
            {
                Ok(value) => value,
                Err(message) => return exec_err!("money_amount: {message}"),
            };
            match to_i128(value, MONEY_SCALE) {
                Some(mantissa) => out.append_value(mantissa),
                None => return exec_err!("money_amount: {value} does not fit"),
            }
        }
        let array = out.finish().with_precision_and_scale(38, MONEY_SCALE)?;
        Ok(ColumnarValue::Array(Arc::new(array)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn prorated_seats_round_once() {
        // 5 seats at 30 for 16 of 31 days.
        let amount = line_amount(d("2400"), d("31"), d("1"), d("1"), 2).unwrap();
        assert_eq!(amount, d("77.42"));
    }

    #[test]
    fn half_yen_rounds_away_from_zero() {
        assert_eq!(
            line_amount(d("4.5"), d("1"), d("1"), d("1"), 0).unwrap(),
            d("5")
        );
        assert_eq!(
            line_amount(d("-4.5"), d("1"), d("1"), d("1"), 0).unwrap(),
            d("-5")
        );
    }

    #[test]
    fn inverse_rate_divides() {
        // 110 USD priced, invoiced in EUR with only EUR->USD 1.10 listed.
        assert_eq!(
            line_amount(d("110"), d("1"), d("1"), d("1.10"), 2).unwrap(),
            d("100")
        );
    }

    #[test]
    fn zero_divisor_is_an_error() {
        assert!(line_amount(d("1"), d("0"), d("1"), d("1"), 2).is_err());
    }
}
