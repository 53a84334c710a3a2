//! Pricing models: what a quantity costs under a charge's tier list.

use rust_decimal::Decimal;

/// One tier of a price: inclusive upper bound (none for the last tier), price per unit and
/// fixed fee.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tier {
    pub up_to: Option<Decimal>,
    pub unit_price: Decimal,
    pub flat_fee: Decimal,
}

/// A pricing model of the data contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PricingModel {
    Flat,
    PerUnit,
    Graduated,
    Volume,
    Package,
}

impl PricingModel {
    /// Parses a `pricing_model` value.
    pub fn parse(text: &str) -> Option<PricingModel> {
        match text {
            "flat" => Some(PricingModel::Flat),
            "per_unit" => Some(PricingModel::PerUnit),
            "graduated" => Some(PricingModel::Graduated),
            "volume" => Some(PricingModel::Volume),
            "package" => Some(PricingModel::Package),
            _ => None,
        }
    }
}

/// Returns the exact, unrounded cost of `quantity` for one period. A quantity of zero or
/// less costs nothing, not even a flat fee. Tiers must be in ascending order.
///
/// # Errors
/// Returns a message when the tier list is empty, a package price has no positive size or
/// the amount overflows.
pub fn rate(
    model: PricingModel,
    quantity: Decimal,
    tiers: &[Tier],
    package_size: Option<Decimal>,
) -> Result<Decimal, String> {
    if quantity <= Decimal::ZERO {
        return Ok(Decimal::ZERO);
    }
    let first = tiers.first().ok_or("the charge has no price tiers")?;
    let overflow = || "amount overflows 28 digits".to_string();
    match model {
        PricingModel::Flat => Ok(first.flat_fee),
        PricingModel::PerUnit => {
            quantity.checked_mul(first.unit_price).ok_or_else(overflow)
        }
        PricingModel::Package => {
            let size = package_size
                .filter(|s| *s > Decimal::ZERO)
                .ok_or("a package price needs a positive package_size")?;
            let packages = (quantity / size).ceil();
            packages.checked_mul(first.unit_price).ok_or_else(overflow)
        }
        PricingModel::Graduated => {
            let mut total = Decimal::ZERO;
            let mut lower = Decimal::ZERO;
            for tier in tiers {
                if quantity <= lower {
                    break;
                }
                let upper = tier.up_to.map_or(quantity, |u| u.min(quantity));
                let units = upper - lower;
                let cost = units.checked_mul(tier.unit_price).ok_or_else(overflow)?;
                total = total + cost + tier.flat_fee;
                match tier.up_to {
                    Some(up_to) => lower = up_to,
                    None => break,
                }
            }
            Ok(total)
        }
        PricingModel::Volume => {
            let tier = tiers
                .iter()
                .find(|t| t.up_to.is_none_or(|u| quantity <= u))
                .or(tiers.last())
                .expect("tiers is not empty");
            let cost = quantity.checked_mul(tier.unit_price).ok_or_else(overflow)?;
            Ok(cost + tier.flat_fee)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn tiers() -> Vec<Tier> {
        vec![
            Tier {
                up_to: Some(d("1000")),
                unit_price: d("0.10"),
                flat_fee: d("0"),
            },
            Tier {
                up_to: Some(d("5000")),
                unit_price: d("0.08"),
                flat_fee: d("0"),
            },
            Tier {
                up_to: None,
                unit_price: d("0.05"),
                flat_fee: d("0"),
            },
        ]
    }

    #[test]
    fn graduated_sums_each_tier() {
        assert_eq!(
            rate(PricingModel::Graduated, d("6200"), &tiers(), None),
            Ok(d("480"))
        );
        assert_eq!(
            rate(PricingModel::Graduated, d("5000"), &tiers(), None),
            Ok(d("420"))
        );
        assert_eq!(
            rate(PricingModel::Graduated, d("1000"), &tiers(), None),
            Ok(d("100"))
        );
    }

    #[test]
    fn volume_prices_all_units_at_one_tier() {
        assert_eq!(
            rate(PricingModel::Volume, d("6200"), &tiers(), None),
            Ok(d("310"))
        );
        assert_eq!(
            rate(PricingModel::Volume, d("1000"), &tiers(), None),
            Ok(d("100"))
        );
        assert_eq!(
            rate(PricingModel::Volume, d("1000.5"), &tiers(), None),
            Ok(d("80.04"))
        );
    }

    #[test]
    fn graduated_flat_fee_per_tier_reached() {
        let mut with_fees = tiers();
        with_fees[0].flat_fee = d("5");
        with_fees[1].flat_fee = d("7");
        assert_eq!(
            rate(PricingModel::Graduated, d("10"), &with_fees, None),
            Ok(d("6"))
        );
        assert_eq!(
            rate(PricingModel::Graduated, d("1001"), &with_fees, None),
            Ok(d("112.08"))
        );
    }

    #[test]
    fn package_rounds_up_to_whole_packages() {
        let one = [Tier {
            up_to: None,
            unit_price: d("2"),
            flat_fee: d("0"),
        }];
        assert_eq!(
            rate(PricingModel::Package, d("101"), &one, Some(d("100"))),
            Ok(d("4"))
        );
        assert_eq!(
            rate(PricingModel::Package, d("100"), &one, Some(d("100"))),
            Ok(d("2"))
        );
        assert!(rate(PricingModel::Package, d("1"), &one, None).is_err());
    }

    #[test]
    fn zero_quantity_costs_nothing() {
        let flat = [Tier {
            up_to: None,
            unit_price: d("0"),
            flat_fee: d("99"),
        }];
        assert_eq!(rate(PricingModel::Flat, d("0"), &flat, None), Ok(d("0")));
        assert_eq!(rate(PricingModel::Flat, d("1"), &flat, None), Ok(d("99")));
        assert_eq!(rate(PricingModel::Flat, d("-2"), &flat, None), Ok(d("0")));
    }
}
