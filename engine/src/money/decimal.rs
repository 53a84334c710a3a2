//! Conversions between Arrow's Decimal128 and `rust_decimal`, and rounding of money.

use rust_decimal::{Decimal, RoundingStrategy};

/// Converts an Arrow decimal (mantissa and scale) to a `rust_decimal::Decimal`, reducing the
/// scale when the mantissa does not fit in 96 bits. Returns `None` when it still does not fit.
pub fn from_i128(mantissa: i128, scale: i8) -> Option<Decimal> {
    let mut mantissa = mantissa;
    let mut scale = scale.max(0) as u32;
    loop {
        if let Ok(value) = Decimal::try_from_i128_with_scale(mantissa, scale) {
            return Some(value);
        }
        if scale == 0 || mantissa % 10 != 0 {
            return None;
        }
        mantissa /= 10;
        scale -= 1;
    }
}

/// Converts a decimal to an Arrow mantissa at `scale`, rounding half away from zero.
/// Returns `None` when the value does not fit in 38 digits.
pub fn to_i128(value: Decimal, scale: i8) -> Option<i128> {
    let scale = scale.max(0) as u32;
    let rounded =
        value.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
    let mantissa = rounded.mantissa();
    let factor = 10i128.checked_pow(scale.saturating_sub(rounded.scale()))?;
    mantissa.checked_mul(factor)
}

/// Rounds money half away from zero to `digits` decimal places. rust_decimal rounds half to
/// even by default, which is not how invoices round.
pub fn round_money(value: Decimal, digits: u32) -> Decimal {
    value.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn round_money_goes_half_away_from_zero() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(round_money(d("0.125"), 2), d("0.13"));
        assert_eq!(round_money(d("-0.125"), 2), d("-0.13"));
        assert_eq!(round_money(d("4.5"), 0), d("5"));
        assert_eq!(round_money(d("2.5"), 0), d("3"));
        assert_eq!(round_money(d("0.124999"), 2), d("0.12"));
    }

    #[test]
    fn i128_round_trip_keeps_value() {
        let value = from_i128(123_456_789, 4).unwrap();
        assert_eq!(value, Decimal::from_str("12345.6789").unwrap());
        assert_eq!(to_i128(value, 6), Some(12_345_678_900));
        assert_eq!(to_i128(value, 2), Some(1_234_568));
    }

    #[test]
    fn from_i128_reduces_scale_of_wide_mantissas() {
        // 10^30 at scale 12 is 10^18 and fits once trailing zeros are dropped.
        let value = from_i128(10i128.pow(30), 12).unwrap();
        assert_eq!(value, Decimal::from_str("1000000000000000000").unwrap());
    }
}
