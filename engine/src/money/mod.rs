//! Exact money: ISO 4217 minor units and rounding half away from zero.

pub mod currency;
pub mod decimal;

pub use currency::minor_units;
