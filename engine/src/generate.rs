//! Deterministic synthetic lakes for tests and benchmarks, behind `billsheet generate`.
//!
//! A generated lake contains the input tables `customers`, `contracts`, `contract_items`,
//! `prices`, `meters` and `fx_rates`, one Parquet file each, and `usage` as one Parquet
//! file per month under `usage/month=YYYY-MM/part-000.parquet`. Usage is generated and
//! written one record batch at a time (at most 1,000,000 rows, one row group each), so
//! memory use grows with the batch size and the number of customers but not with the
//! number of events.
//!
//! The lake models a usage-based SaaS business:
//! - customers in eight IANA time zones, invoiced in USD, EUR or JPY, with a tax rate per
//!   zone;
//! - one contract per customer, starting on a random day of the first month and anchored
//!   on the first day of that month. Some have a monthly or quarterly commitment, a
//!   discount, grace days, or an end date in the last month;
//! - contract items for seats and a platform fee, and for most contracts a later seat
//!   change (sometimes negative), a few of them recorded after they took effect;
//! - one rate card per currency (`STANDARD_USD`, `STANDARD_EUR`, `STANDARD_JPY`) with
//!   seats (`per_unit`), a platform fee (`flat`), `api_calls` (`graduated`, 3 tiers),
//!   `storage_gb` (`volume`), `sms` (`package` of 100) and `tokens` (`per_unit` per
//!   model, by `dimension`);
//! - about 3 % of the USD customers on the EUR rate card, so their prices are converted
//!   with the daily EUR to USD rates in `fx_rates` (JPY to USD rates are there for
//!   reporting);
//! - usage events from customers with Zipf-like activity, inside their contract's days in
//!   every zone. About 1 % of the rows redeliver an earlier event unchanged. About 0.05 %
//!   of the events are received more than 32 days after they happened, so after their
//!   period has ended.
//!
//! The same options give byte-identical files, because each table draws from its own
//! `StdRng` stream seeded from the seed, and no value depends on the batch size or the
//! clock. NOTE: `rand` does not promise that `StdRng` keeps its algorithm across
//! releases, so a lake is reproducible only with the same versions of `rand` and
//! `parquet`.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, Int32Array, StringArray, StringBuilder,
    TimestampMicrosecondArray,
};
use arrow::compute::kernels::cast_utils::parse_decimal;
use arrow::datatypes::{DataType, Decimal128Type, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{Datelike, Months, NaiveDate};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::BillsheetError;

/// Options of `billsheet generate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Lake folder to create, which must be missing or empty.
    pub out: PathBuf,
    /// Number of customers, each with one contract.
    pub customers: u64,
    /// Number of usage rows, redeliveries included, split evenly over the months.
    pub events: u64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of calendar months of usage.
    pub months: u32,
    /// First day of the first month, which must be the first day of a calendar month.
    pub start: NaiveDate,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            out: PathBuf::from("lake"),
            customers: 1_000,
            events: 100_000,
            seed: 7,
            months: 3,
            start: NaiveDate::from_ymd_opt(2026, 1, 1)
                .expect("2026-01-01 is a valid date"),
        }
    }
}

/// Row counts and files of a generated lake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateSummary {
    /// Rows written to `usage`, redeliveries included.
    pub events: u64,
    /// Rows written to `customers`, and to `contracts`.
    pub customers: u64,
    /// Every file written, in the order written.
    pub files: Vec<PathBuf>,
}

/// Generates a lake as described in the module documentation.
///
/// Returns an error when an option is invalid, when `out` is a folder that is not empty,
/// or when a file cannot be written. Each file is written under a hidden temporary name
/// and renamed when complete, so a failed run leaves no partial Parquet file under a
/// table's name.
pub fn generate(options: &GenerateOptions) -> Result<GenerateSummary, BillsheetError> {
    generate_with_batch_rows(options, ROWS_PER_BATCH)
}

/// Maximum rows in one record batch and one Parquet row group.
const ROWS_PER_BATCH: usize = 1_000_000;

/// Upper bound of `customers`, because an event stores its customer as a `u32`.
const MAX_CUSTOMERS: u64 = u32::MAX as u64;
/// Upper bound of `months`: a century of usage.
const MAX_MONTHS: u32 = 1_200;

/// Decimal types as (precision, scale). Quantities and unit prices keep 9 decimal places,
/// money 6, and precision 18 lets Parquet store them as 64-bit integers.
const QUANTITY: (u8, i8) = (18, 9);
const UNIT_PRICE: (u8, i8) = (18, 9);
const MONEY: (u8, i8) = (18, 6);
const FX_RATE: (u8, i8) = (18, 9);
/// Tax rates and discounts, such as 0.19.
const FRACTION: (u8, i8) = (9, 6);

const QUANTITY_ONE: i64 = 1_000_000_000;
const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
/// Distance kept between a contract's first or last UTC midnight and its events. It is
/// larger than the offset of every zone in [`ZONES`] (UTC-8 to UTC+11 with daylight
/// saving time), so every event falls on a day of its contract in the customer's zone.
const ZONE_MARGIN_MICROS: i64 = 14 * 3_600 * MICROS_PER_SECOND;

/// Share of usage rows that repeat one of the [`RECENT_EVENTS`] previous events of the
/// month.
const REDELIVERY_SHARE: f64 = 0.01;
const RECENT_EVENTS: usize = 64;
/// Share of events received 33 to 60 days after they happened. Any month ends less than
/// 32 days after an event in it, in any zone, so these events arrive after their period
/// has ended.
const LATE_SHARE: f64 = 0.0005;
/// Delay of an on-time event's `received_at` after its `ts`: up to 5 minutes.
const ON_TIME_DELAY_MICROS: i64 = 300 * MICROS_PER_SECOND;

/// Share of contracts with a seat change after their start.
const SEAT_CHANGE_SHARE: f64 = 0.6;
/// Share of seat changes recorded 2 to 20 days after they took effect.
const LATE_SEAT_CHANGE_SHARE: f64 = 0.05;
const COMMIT_SHARE: f64 = 0.2;
const QUARTERLY_COMMIT_SHARE: f64 = 0.25;
const DISCOUNT_SHARE: f64 = 1.0 / 7.0;
const DISCOUNTS: [&str; 3] = ["0.05", "0.10", "0.15"];
const GRACE_DAYS_SHARE: f64 = 0.1;
const GRACE_DAYS: i32 = 3;
/// Share of contracts that end during the last month, when there are at least two months.
const ENDING_SHARE: f64 = 0.02;
/// Share of USD customers on the EUR rate card.
const EUR_CARD_SHARE: f64 = 0.03;
const NET_TERMS_DAYS: [i32; 6] = [30, 30, 30, 15, 45, 60];

/// Invoice and price currencies. Indexes into this array are used throughout.
const CURRENCIES: [&str; 3] = ["USD", "EUR", "JPY"];
const USD: u8 = 0;
const EUR: u8 = 1;
const JPY: u8 = 2;
const RATE_CARDS: [&str; 3] = ["STANDARD_USD", "STANDARD_EUR", "STANDARD_JPY"];
/// Monthly commitment in each currency. A quarterly one is three times as much.
const MONTHLY_COMMIT: [&str; 3] = ["500", "450", "75000"];

struct Zone {
    name: &'static str,
    currency: u8,
    tax_rate: &'static str,
}

#[rustfmt::skip]
const ZONES: [Zone; 8] = [
    Zone { name: "UTC", currency: USD, tax_rate: "0" },
    Zone { name: "America/New_York", currency: USD, tax_rate: "0.08875" },
    Zone { name: "America/Los_Angeles", currency: USD, tax_rate: "0.0725" },
    Zone { name: "Asia/Kolkata", currency: USD, tax_rate: "0.18" },
    Zone { name: "Australia/Sydney", currency: USD, tax_rate: "0.1" },
    Zone { name: "Europe/Berlin", currency: EUR, tax_rate: "0.19" },
    Zone { name: "Europe/Paris", currency: EUR, tax_rate: "0.2" },
    Zone { name: "Asia/Tokyo", currency: JPY, tax_rate: "0.1" },
];

struct Meter {
    name: &'static str,
    aggregation: &'static str,
    unit: &'static str,
}

#[rustfmt::skip]
const METERS: [Meter; 4] = [
    Meter { name: "api_calls", aggregation: "sum", unit: "API call" },
    Meter { name: "storage_gb", aggregation: "max", unit: "GB" },
    Meter { name: "sms", aggregation: "count", unit: "message" },
    Meter { name: "tokens", aggregation: "sum", unit: "token" },
];
const API_CALLS: u8 = 0;
const STORAGE_GB: u8 = 1;
const SMS: u8 = 2;
const TOKENS: u8 = 3;
/// `dimension` values of `tokens` events, priced separately.
const MODELS: [&str; 3] = ["small", "medium", "large"];

/// One row of a rate card. Amounts are given per currency, in the order of
/// [`CURRENCIES`].
struct PriceRow {
    charge_id: &'static str,
    charge_type: &'static str,
    meter: Option<&'static str>,
    dimension: Option<&'static str>,
    pricing_model: &'static str,
    tier: i32,
    up_to: Option<&'static str>,
    unit_price: Option<[&'static str; 3]>,
    flat_fee: Option<[&'static str; 3]>,
    package_size: Option<&'static str>,
    timing: &'static str,
    description: &'static str,
}

const fn recurring(
    charge_id: &'static str,
    pricing_model: &'static str,
    unit_price: Option<[&'static str; 3]>,
    flat_fee: Option<[&'static str; 3]>,
    description: &'static str,
) -> PriceRow {
    PriceRow {
        charge_id,
        charge_type: "recurring",
        meter: None,
        dimension: None,
        pricing_model,
        tier: 1,
        up_to: None,
        unit_price,
        flat_fee,
        package_size: None,
        timing: "advance",
        description,
    }
}

const fn usage_tier(
    charge_id: &'static str,
    meter: &'static str,
    pricing_model: &'static str,
    tier: i32,
    up_to: Option<&'static str>,
    unit_price: [&'static str; 3],
    description: &'static str,
) -> PriceRow {
    PriceRow {
        charge_id,
        charge_type: "usage",
        meter: Some(meter),
        dimension: None,
        pricing_model,
        tier,
        up_to,
        unit_price: Some(unit_price),
        flat_fee: None,
        package_size: None,
        timing: "arrears",
        description,
    }
}

#[rustfmt::skip]
const PRICE_ROWS: [PriceRow; 11] = [
    recurring("seats", "per_unit", Some(["25", "23", "3800"]), None, "Seats"),
    recurring("platform", "flat", None, Some(["99", "89", "15000"]), "Platform fee"),
    usage_tier("api_calls", "api_calls", "graduated", 1, Some("100000"),
               ["0.001", "0.0009", "0.15"], "API calls"),
    usage_tier("api_calls", "api_calls", "graduated", 2, Some("1000000"),
               ["0.0008", "0.0007", "0.12"], "API calls"),
    usage_tier("api_calls", "api_calls", "graduated", 3, None,
               ["0.0005", "0.00045", "0.075"], "API calls"),
    usage_tier("storage", "storage_gb", "volume", 1, Some("100"),
               ["0.25", "0.23", "38"], "Storage, peak GB"),
    PriceRow {
        flat_fee: Some(["10", "9", "1500"]),
        ..usage_tier("storage", "storage_gb", "volume", 2, None,
                     ["0.2", "0.18", "30"], "Storage, peak GB")
    },
    PriceRow {
        package_size: Some("100"),
        ..usage_tier("sms", "sms", "package", 1, None,
                     ["0.75", "0.7", "110"], "SMS, per 100 messages")
    },
    PriceRow {
        dimension: Some(MODELS[0]),
        ..usage_tier("tokens_small", "tokens", "per_unit", 1, None,
                     ["0.0000004", "0.00000037", "0.00006"], "Tokens, small model")
    },
    PriceRow {
        dimension: Some(MODELS[1]),
        ..usage_tier("tokens_medium", "tokens", "per_unit", 1, None,
                     ["0.000001", "0.0000009", "0.00015"], "Tokens, medium model")
    },
    PriceRow {
        dimension: Some(MODELS[2]),
        ..usage_tier("tokens_large", "tokens", "per_unit", 1, None,
                     ["0.000003", "0.0000028", "0.00045"], "Tokens, large model")
    },
];

/// Daily rates written to `fx_rates` as (from, to, first rate, maximum daily step), with
/// rates as integers at the scale of [`FX_RATE`].
const FX_PAIRS: [(u8, u8, i64, i64); 2] = [
    (EUR, USD, 1_085_000_000, 3_000_000),
    (JPY, USD, 6_700_000, 40_000),
];

/// Random-number streams: one for the customers and their contracts, one for the rates
/// and one per month of usage, so that the number of events changes no other table.
const CUSTOMER_STREAM: u64 = 1;
const FX_STREAM: u64 = 2;
/// Usage of month `m` uses stream `USAGE_STREAM + m`.
const USAGE_STREAM: u64 = 1_000;

fn stream_rng(seed: u64, stream: u64) -> StdRng {
    StdRng::seed_from_u64(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Everything about one customer and its contract that the tables and the usage depend
/// on.
struct CustomerPlan {
    zone: u8,
    currency: u8,
    card_currency: u8,
    net_terms_days: i32,
    /// Contract start and exclusive end, as days since 1970-01-01.
    start_day: i32,
    end_day: Option<i32>,
    seats: i32,
    seat_change: Option<SeatChange>,
    commit: Option<CommitInterval>,
    discount: Option<u8>,
    grace_days: i32,
    /// Typical stored gigabytes, as a quantity at the scale of [`QUANTITY`].
    storage_gb: i64,
}

struct SeatChange {
    day: i32,
    delta: i32,
    recorded_at_micros: i64,
}

#[derive(Clone, Copy)]
enum CommitInterval {
    Month,
    Quarter,
}

impl CustomerPlan {
    /// First instant at which the customer can have usage.
    fn usage_from_micros(&self) -> i64 {
        i64::from(self.start_day) * MICROS_PER_DAY + ZONE_MARGIN_MICROS
    }

    /// Instant from which the customer has no more usage.
    fn usage_to_micros(&self) -> i64 {
        match self.end_day {
            Some(day) => i64::from(day) * MICROS_PER_DAY - ZONE_MARGIN_MICROS,
            None => i64::MAX,
        }
    }
}

/// Months of the lake.
struct Calendar {
    start: NaiveDate,
    /// First day of each month, and the first day after the last month.
    month_starts: Vec<NaiveDate>,
}

impl Calendar {
    fn new(options: &GenerateOptions) -> Result<Self, BillsheetError> {
        let month_starts = (0..=options.months)
            .map(|month| options.start.checked_add_months(Months::new(month)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                invalid_options(format!(
                    "start {} plus {} months is past the last supported date",
                    options.start, options.months
                ))
            })?;
        Ok(Calendar {
            start: options.start,
            month_starts,
        })
    }

    fn months(&self) -> usize {
        self.month_starts.len() - 1
    }

    fn month_days(&self, month: usize) -> i32 {
        self.month_starts[month + 1].to_epoch_days()
            - self.month_starts[month].to_epoch_days()
    }

    fn end(&self) -> NaiveDate {
        self.month_starts[self.months()]
    }
}

fn epoch_micros(date: NaiveDate) -> i64 {
    i64::from(date.to_epoch_days()) * MICROS_PER_DAY
}

/// Text ids with zero-padded numbers, wide enough to sort in numeric order.
struct IdFormat {
    customer_width: usize,
}

impl IdFormat {
    const EVENT_WIDTH: usize = 12;

    fn new(customers: u64) -> Self {
        let digits =
            customers.saturating_sub(1).checked_ilog10().unwrap_or(0) as usize + 1;
        IdFormat {
            customer_width: digits.max(7),
        }
    }

    fn customer_id(&self, index: usize) -> String {
        format!("C{index:0width$}", width = self.customer_width)
    }

    fn contract_id(&self, index: usize) -> String {
        format!("K{index:0width$}", width = self.customer_width)
    }

    fn write_customer_id(&self, text: &mut String, index: u32) {
        text.clear();
        write!(text, "C{index:0width$}", width = self.customer_width)
            .expect("formatting into a String does not fail");
    }

    fn write_event_id(text: &mut String, serial: u64) {
        text.clear();
        write!(text, "ev-{serial:0width$}", width = Self::EVENT_WIDTH)
            .expect("formatting into a String does not fail");
    }
}

fn generate_with_batch_rows(
    options: &GenerateOptions,
    batch_rows: usize,
) -> Result<GenerateSummary, BillsheetError> {
    let calendar = validate(options)?;
    prepare_out_folder(&options.out)?;

    let ids = IdFormat::new(options.customers);
    let plans = plan_customers(options, &calendar);
    let mut files = write_reference_tables(options, &calendar, &plans, &ids, batch_rows)?;
    files.extend(write_usage(options, &calendar, &plans, &ids, batch_rows)?);

    Ok(GenerateSummary {
        events: options.events,
        customers: options.customers,
        files,
    })
}

/// Writes every table but `usage`.
fn write_reference_tables(
    options: &GenerateOptions,
    calendar: &Calendar,
    plans: &[CustomerPlan],
    ids: &IdFormat,
    batch_rows: usize,
) -> Result<Vec<PathBuf>, BillsheetError> {
    let properties = writer_properties(batch_rows, &[])?;
    let out = &options.out;
    let mut files = Vec::new();
    files.push(write_table(
        &out.join("customers.parquet"),
        customers_schema(),
        &properties,
        plans
            .chunks(batch_rows)
            .enumerate()
            .map(|(chunk, plans)| customers_batch(plans, chunk * batch_rows, ids)),
    )?);

    files.push(write_table(
        &out.join("contracts.parquet"),
        contracts_schema(),
        &properties,
        plans.chunks(batch_rows).enumerate().map(|(chunk, plans)| {
            contracts_batch(plans, chunk * batch_rows, ids, calendar)
        }),
    )?);

    // A contract has up to three item rows.
    let contracts_per_batch = (batch_rows / 3).max(1);
    files.push(write_table(
        &out.join("contract_items.parquet"),
        contract_items_schema(),
        &properties,
        plans
            .chunks(contracts_per_batch)
            .enumerate()
            .map(|(chunk, plans)| {
                contract_items_batch(plans, chunk * contracts_per_batch, ids)
            }),
    )?);

    files.push(write_table(
        &out.join("prices.parquet"),
        prices_schema(),
        &properties,
        std::iter::once(prices_batch()),
    )?);

    files.push(write_table(
        &out.join("meters.parquet"),
        meters_schema(),
        &properties,
        std::iter::once(meters_batch()),
    )?);

    files.push(write_table(
        &out.join("fx_rates.parquet"),
        fx_rates_schema(),
        &properties,
        std::iter::once(fx_rates_batch(options.seed, calendar)),
    )?);
    Ok(files)
}

/// Writes one `usage` file per month.
fn write_usage(
    options: &GenerateOptions,
    calendar: &Calendar,
    plans: &[CustomerPlan],
    ids: &IdFormat,
    batch_rows: usize,
) -> Result<Vec<PathBuf>, BillsheetError> {
    let activity = customer_activity(plans.len())?;
    let properties = writer_properties(batch_rows, &["event_id", "ts", "received_at"])?;
    let mut files = Vec::new();
    let mut rows_before_month = 0;
    for month in 0..calendar.months() {
        let rows = month_rows(options.events, calendar.months(), month);
        let usage = UsageStream {
            rng: stream_rng(options.seed, USAGE_STREAM + month as u64),
            plans,
            activity: &activity,
            from_micros: epoch_micros(calendar.month_starts[month]),
            to_micros: epoch_micros(calendar.month_starts[month + 1]),
            next_serial: rows_before_month,
            recent: VecDeque::with_capacity(RECENT_EVENTS),
        };
        let month_start = calendar.month_starts[month];
        let partition =
            format!("month={:04}-{:02}", month_start.year(), month_start.month());
        let path = options
            .out
            .join("usage")
            .join(partition)
            .join("part-000.parquet");
        files.push(write_usage_month(
            &path,
            usage,
            rows,
            batch_rows,
            ids,
            &properties,
        )?);
        rows_before_month += rows;
    }
    Ok(files)
}

fn invalid_options(message: String) -> BillsheetError {
    BillsheetError::Request(format!("invalid generate options: {message}"))
}

fn validate(options: &GenerateOptions) -> Result<Calendar, BillsheetError> {
    if options.customers == 0 {
        return Err(invalid_options("customers must be at least 1".to_string()));
    }
    if options.customers > MAX_CUSTOMERS {
        return Err(invalid_options(format!(
            "customers is {}, above the maximum of {MAX_CUSTOMERS}",
            options.customers
        )));
    }
    if options.months == 0 || options.months > MAX_MONTHS {
        return Err(invalid_options(format!(
            "months is {}, expected 1 to {MAX_MONTHS}",
            options.months
        )));
    }
    if options.start.day() != 1 {
        return Err(invalid_options(format!(
            "start is {}, expected the first day of a month",
            options.start
        )));
    }
    Calendar::new(options)
}

/// Creates `out`, or accepts it if it is an empty folder. A folder with files in it is
/// rejected, because files of an earlier lake (a month partition, say) would mix with the
/// new ones.
fn prepare_out_folder(out: &Path) -> Result<(), BillsheetError> {
    match fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(invalid_options(format!(
                    "output folder {} is not empty; remove it or choose another folder",
                    out.display()
                )));
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(out).map_err(|error| {
                io_error(&format!("failed to create {}", out.display()), error)
            })
        }
        Err(error) => Err(io_error(
            &format!("failed to read {}", out.display()),
            error,
        )),
    }
}

fn io_error(context: &str, error: std::io::Error) -> BillsheetError {
    BillsheetError::Io(std::io::Error::new(
        error.kind(),
        format!("{context}: {error}"),
    ))
}

fn internal_error(context: &str, error: impl std::fmt::Display) -> BillsheetError {
    BillsheetError::Internal(format!("{context}: {error}"))
}

/// Draws every customer and contract from the customer stream, in customer order.
fn plan_customers(options: &GenerateOptions, calendar: &Calendar) -> Vec<CustomerPlan> {
    let mut rng = stream_rng(options.seed, CUSTOMER_STREAM);
    let start_day = calendar.start.to_epoch_days();
    let end_day = calendar.end().to_epoch_days();
    let last_month = calendar.months() - 1;
    let last_month_day = calendar.month_starts[last_month].to_epoch_days();
    // Start every contract at least two days before the first month ends, so that it has
    // usage in that month after the zone margin.
    let latest_start_offset = calendar.month_days(0) - 2;

    let customers = usize::try_from(options.customers).expect("customers fits in u32");
    let mut plans = Vec::with_capacity(customers);
    for _ in 0..customers {
        let zone = rng.random_range(0..ZONES.len());
        let currency = ZONES[zone].currency;
        let card_currency = if currency == USD && rng.random_bool(EUR_CARD_SHARE) {
            EUR
        } else {
            currency
        };
        let net_terms_days = NET_TERMS_DAYS[rng.random_range(0..NET_TERMS_DAYS.len())];
        let contract_start = start_day + rng.random_range(0..latest_start_offset);
        let contract_end = if calendar.months() >= 2 && rng.random_bool(ENDING_SHARE) {
            Some(last_month_day + rng.random_range(3..calendar.month_days(last_month)))
        } else {
            None
        };
        let seats = rng.random_range(1..=200);
        let seat_change = if rng.random_bool(SEAT_CHANGE_SHARE) {
            plan_seat_change(
                &mut rng,
                contract_start,
                contract_end.unwrap_or(end_day),
                seats,
            )
        } else {
            None
        };
        let commit = if rng.random_bool(COMMIT_SHARE) {
            if rng.random_bool(QUARTERLY_COMMIT_SHARE) {
                Some(CommitInterval::Quarter)
            } else {
                Some(CommitInterval::Month)
            }
        } else {
            None
        };
        let discount = if rng.random_bool(DISCOUNT_SHARE) {
            Some(rng.random_range(0..DISCOUNTS.len()) as u8)
        } else {
            None
        };
        let grace_days = if rng.random_bool(GRACE_DAYS_SHARE) {
            GRACE_DAYS
        } else {
            0
        };
        let storage_gb = rng.random_range(1_000..=400_000) * (QUANTITY_ONE / 1_000);
        plans.push(CustomerPlan {
            zone: zone as u8,
            currency,
            card_currency,
            net_terms_days,
            start_day: contract_start,
            end_day: contract_end,
            seats,
            seat_change,
            commit,
            discount,
            grace_days,
            storage_gb,
        });
    }
    plans
}

/// Draws a seat change at least a week after the contract starts and a week before its
/// service ends, or none when the contract is too short for that.
fn plan_seat_change(
    rng: &mut StdRng,
    start_day: i32,
    end_day: i32,
    seats: i32,
) -> Option<SeatChange> {
    let (first, last) = (start_day + 7, end_day - 7);
    if first >= last {
        return None;
    }
    let day = rng.random_range(first..last);
    // A decrease leaves at least one seat.
    let delta = match rng.random_range(-(seats - 1).min(10)..=20) {
        0 => 1,
        delta => delta,
    };
    let midnight = i64::from(day) * MICROS_PER_DAY;
    let recorded_at_micros = if rng.random_bool(LATE_SEAT_CHANGE_SHARE) {
        midnight + rng.random_range(2 * MICROS_PER_DAY..20 * MICROS_PER_DAY)
    } else {
        let contract_midnight = i64::from(start_day) * MICROS_PER_DAY;
        (midnight - rng.random_range(0..3 * MICROS_PER_DAY)).max(contract_midnight)
    };
    Some(SeatChange {
        day,
        delta,
        recorded_at_micros,
    })
}

/// Weights of customers in the usage: customer `i` gets weight `1 / (i + 1)^0.75`, a
/// Zipf-like curve in which a few customers send most events. The power is computed with
/// square roots, which IEEE 754 rounds exactly, so the weights are the same on every
/// platform.
fn customer_activity(customers: usize) -> Result<WeightedIndex<f64>, BillsheetError> {
    let weights = (1..=customers).map(|rank| {
        let root = (rank as f64).sqrt();
        1.0 / (root * root.sqrt())
    });
    WeightedIndex::new(weights)
        .map_err(|error| internal_error("invalid customer weights", error))
}

/// Rows of `usage` in a month: an even share, with the remainder spread over the first
/// months.
fn month_rows(events: u64, months: usize, month: usize) -> u64 {
    let months = months as u64;
    let month = month as u64;
    events / months + u64::from(month < events % months)
}

#[derive(Clone, Copy)]
struct Event {
    serial: u64,
    customer: u32,
    meter: u8,
    /// Index into [`MODELS`] for `tokens` events.
    model: Option<u8>,
    ts_micros: i64,
    /// Quantity at the scale of [`QUANTITY`].
    quantity: i64,
    received_at_micros: i64,
}

/// Random usage of one month.
struct UsageStream<'a> {
    rng: StdRng,
    plans: &'a [CustomerPlan],
    activity: &'a WeightedIndex<f64>,
    from_micros: i64,
    to_micros: i64,
    /// Serial number of the next new event. Each month starts at the number of rows
    /// before it, so event ids are unique across the lake.
    next_serial: u64,
    /// Events that a redelivery can repeat.
    recent: VecDeque<Event>,
}

impl UsageStream<'_> {
    fn next_row(&mut self) -> Result<Event, BillsheetError> {
        if !self.recent.is_empty() && self.rng.random_bool(REDELIVERY_SHARE) {
            let index = self.rng.random_range(0..self.recent.len());
            return Ok(self.recent[index]);
        }
        let event = self.new_event()?;
        if self.recent.len() == RECENT_EVENTS {
            self.recent.pop_front();
        }
        self.recent.push_back(event);
        Ok(event)
    }

    fn new_event(&mut self) -> Result<Event, BillsheetError> {
        let customer = self.activity.sample(&mut self.rng);
        let plan = &self.plans[customer];
        let from = self.from_micros.max(plan.usage_from_micros());
        let to = self.to_micros.min(plan.usage_to_micros());
        if from >= to {
            // The plan starts every contract at least two days before the first month
            // ends, and an end date is at least three days into the last month, so every
            // customer has usage time in every month.
            return Err(BillsheetError::Internal(format!(
                "customer {customer} has no usage time between {from} and {to} microseconds"
            )));
        }
        let ts_micros = self.rng.random_range(from..to);
        let (meter, model, quantity) = match self.rng.random_range(0..100) {
            0..45 => (
                API_CALLS,
                None,
                self.rng.random_range(1..=50) * QUANTITY_ONE,
            ),
            45..75 => {
                let model = match self.rng.random_range(0..10) {
                    0..6 => 0,
                    6..9 => 1,
                    _ => 2,
                };
                (
                    TOKENS,
                    Some(model),
                    self.rng.random_range(100..=20_000) * QUANTITY_ONE,
                )
            }
            75..90 => (SMS, None, QUANTITY_ONE),
            // A storage reading varies by up to 10 % around the customer's typical size.
            _ => (
                STORAGE_GB,
                None,
                plan.storage_gb / 1_000 * self.rng.random_range(900..=1_100),
            ),
        };
        let delay = if self.rng.random_bool(LATE_SHARE) {
            self.rng
                .random_range(33 * MICROS_PER_DAY..60 * MICROS_PER_DAY)
        } else {
            self.rng.random_range(0..ON_TIME_DELAY_MICROS)
        };
        let serial = self.next_serial;
        self.next_serial += 1;
        Ok(Event {
            serial,
            customer: customer as u32,
            meter,
            model,
            ts_micros,
            quantity,
            received_at_micros: ts_micros + delay,
        })
    }
}

fn write_usage_month(
    path: &Path,
    mut usage: UsageStream<'_>,
    rows: u64,
    batch_rows: usize,
    ids: &IdFormat,
    properties: &WriterProperties,
) -> Result<PathBuf, BillsheetError> {
    let mut file = ParquetFile::create(path, usage_schema(), properties)?;
    let mut events = Vec::with_capacity(batch_rows.min(rows as usize));
    let mut remaining = rows;
    while remaining > 0 {
        let batch = remaining.min(batch_rows as u64);
        events.clear();
        for _ in 0..batch {
            events.push(usage.next_row()?);
        }
        file.write(&usage_batch(&events, ids)?)?;
        remaining -= batch;
    }
    file.finish()
}

fn write_table(
    path: &Path,
    schema: SchemaRef,
    properties: &WriterProperties,
    batches: impl Iterator<Item = Result<RecordBatch, BillsheetError>>,
) -> Result<PathBuf, BillsheetError> {
    let mut file = ParquetFile::create(path, schema, properties)?;
    for batch in batches {
        file.write(&batch?)?;
    }
    file.finish()
}

/// Zstandard level 1, and no dictionary for the columns named, whose values rarely
/// repeat.
fn writer_properties(
    rows_per_row_group: usize,
    columns_without_dictionary: &[&str],
) -> Result<WriterProperties, BillsheetError> {
    let level = ZstdLevel::try_new(1)
        .map_err(|error| internal_error("invalid zstd level", error))?;
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_max_row_group_row_count(Some(rows_per_row_group));
    for column in columns_without_dictionary {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(*column), false);
    }
    Ok(builder.build())
}

/// A Parquet file written under a hidden temporary name in the target folder and renamed
/// to its path by [`ParquetFile::finish`]. If it is dropped before that, the temporary
/// file is removed.
struct ParquetFile {
    path: PathBuf,
    temporary_path: PathBuf,
    writer: Option<ArrowWriter<BufWriter<File>>>,
}

impl ParquetFile {
    fn create(
        path: &Path,
        schema: SchemaRef,
        properties: &WriterProperties,
    ) -> Result<Self, BillsheetError> {
        let folder = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(folder).map_err(|error| {
            io_error(&format!("failed to create {}", folder.display()), error)
        })?;
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy())
            .unwrap_or_default();
        let temporary_path = folder.join(format!(".{name}.tmp"));
        let file = File::create(&temporary_path).map_err(|error| {
            io_error(
                &format!("failed to create {}", temporary_path.display()),
                error,
            )
        })?;
        let writer =
            ArrowWriter::try_new(BufWriter::new(file), schema, Some(properties.clone()))
                .map_err(|error| {
                    internal_error(
                        &format!("failed to start Parquet file {}", path.display()),
                        error,
                    )
                })?;
        Ok(ParquetFile {
            path: path.to_path_buf(),
            temporary_path,
            writer: Some(writer),
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), BillsheetError> {
        let writer = self
            .writer
            .as_mut()
            .expect("a ParquetFile is written only before finish");
        writer.write(batch).map_err(|error| {
            internal_error(&format!("failed to write {}", self.path.display()), error)
        })
    }

    /// Closes the file and renames it to its path.
    fn finish(mut self) -> Result<PathBuf, BillsheetError> {
        let writer = self.writer.take().expect("finish is called once");
        let context = format!("failed to write {}", self.path.display());
        let buffered = writer
            .into_inner()
            .map_err(|error| internal_error(&context, error))?;
        buffered
            .into_inner()
            .map_err(|error| io_error(&context, error.into_error()))?;
        fs::rename(&self.temporary_path, &self.path).map_err(|error| {
            io_error(
                &format!(
                    "failed to rename {} to {}",
                    self.temporary_path.display(),
                    self.path.display()
                ),
                error,
            )
        })?;
        Ok(self.path.clone())
    }
}

impl Drop for ParquetFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            // Best effort: the file is incomplete and must not be mistaken for a table.
            let _ = fs::remove_file(&self.temporary_path);
        }
    }
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn decimal_type((precision, scale): (u8, i8)) -> DataType {
    DataType::Decimal128(precision, scale)
}

fn customers_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("currency", DataType::Utf8, false),
        Field::new("timezone", DataType::Utf8, true),
        Field::new("tax_rate", decimal_type(FRACTION), true),
        Field::new("net_terms_days", DataType::Int32, true),
    ]))
}

fn contracts_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("contract_id", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("rate_card_id", DataType::Utf8, false),
        Field::new("start_date", DataType::Date32, false),
        Field::new("end_date", DataType::Date32, true),
        Field::new("billing_anchor", DataType::Date32, true),
        Field::new("commit_amount", decimal_type(MONEY), true),
        Field::new("commit_interval", DataType::Utf8, true),
        Field::new("discount_pct", decimal_type(FRACTION), true),
        Field::new("grace_days", DataType::Int32, true),
    ]))
}

fn contract_items_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("contract_id", DataType::Utf8, false),
        Field::new("charge_id", DataType::Utf8, false),
        Field::new("quantity", decimal_type(QUANTITY), true),
        Field::new("effective_from", DataType::Date32, false),
        Field::new("effective_to", DataType::Date32, true),
        Field::new("recorded_at", timestamp_type(), true),
    ]))
}

fn prices_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("rate_card_id", DataType::Utf8, false),
        Field::new("contract_id", DataType::Utf8, true),
        Field::new("charge_id", DataType::Utf8, false),
        Field::new("charge_type", DataType::Utf8, false),
        Field::new("meter", DataType::Utf8, true),
        Field::new("dimension", DataType::Utf8, true),
        Field::new("pricing_model", DataType::Utf8, false),
        Field::new("tier", DataType::Int32, true),
        Field::new("up_to", decimal_type(QUANTITY), true),
        Field::new("unit_price", decimal_type(UNIT_PRICE), true),
        Field::new("flat_fee", decimal_type(MONEY), true),
        Field::new("package_size", decimal_type(QUANTITY), true),
        Field::new("interval", DataType::Utf8, true),
        Field::new("timing", DataType::Utf8, true),
        Field::new("currency", DataType::Utf8, false),
        Field::new("effective_from", DataType::Date32, true),
        Field::new("effective_to", DataType::Date32, true),
        Field::new("description", DataType::Utf8, true),
    ]))
}

fn meters_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("meter", DataType::Utf8, false),
        Field::new("aggregation", DataType::Utf8, false),
        Field::new("unit", DataType::Utf8, true),
    ]))
}

fn usage_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("meter", DataType::Utf8, false),
        Field::new("ts", timestamp_type(), false),
        Field::new("quantity", decimal_type(QUANTITY), true),
        Field::new("dimension", DataType::Utf8, true),
        Field::new("received_at", timestamp_type(), true),
    ]))
}

fn fx_rates_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("date", DataType::Date32, false),
        Field::new("from_currency", DataType::Utf8, false),
        Field::new("to_currency", DataType::Utf8, false),
        Field::new("rate", decimal_type(FX_RATE), false),
    ]))
}

fn decimal_array(
    values: Vec<Option<i128>>,
    (precision, scale): (u8, i8),
) -> Result<ArrayRef, BillsheetError> {
    let array = Decimal128Array::from(values)
        .with_precision_and_scale(precision, scale)
        .map_err(|error| internal_error("invalid decimal type", error))?;
    Ok(Arc::new(array))
}

/// Parses one of this module's decimal constants at the given precision and scale.
fn parse_constant(
    text: &str,
    (precision, scale): (u8, i8),
) -> Result<i128, BillsheetError> {
    parse_decimal::<Decimal128Type>(text, precision, scale).map_err(|error| {
        internal_error(&format!("invalid decimal constant {text}"), error)
    })
}

fn timestamp_array(values: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
}

fn string_array<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.into_iter().collect::<StringArray>())
}

fn record_batch(
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
) -> Result<RecordBatch, BillsheetError> {
    RecordBatch::try_new(schema, columns)
        .map_err(|error| internal_error("failed to build a record batch", error))
}

fn customers_batch(
    plans: &[CustomerPlan],
    first: usize,
    ids: &IdFormat,
) -> Result<RecordBatch, BillsheetError> {
    let tax_rates = ZONES
        .iter()
        .map(|zone| parse_constant(zone.tax_rate, FRACTION))
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = first..first + plans.len();
    let customer_ids: StringArray = indexes
        .clone()
        .map(|index| Some(ids.customer_id(index)))
        .collect();
    let names: StringArray = indexes
        .map(|index| Some(format!("Customer {index}")))
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(customer_ids),
        Arc::new(names),
        string_array(
            plans
                .iter()
                .map(|plan| Some(CURRENCIES[usize::from(plan.currency)])),
        ),
        string_array(
            plans
                .iter()
                .map(|plan| Some(ZONES[usize::from(plan.zone)].name)),
        ),
        decimal_array(
            plans
                .iter()
                .map(|plan| Some(tax_rates[usize::from(plan.zone)]))
                .collect(),
            FRACTION,
        )?,
        Arc::new(
            plans
                .iter()
                .map(|plan| Some(plan.net_terms_days))
                .collect::<Int32Array>(),
        ),
    ];
    record_batch(customers_schema(), columns)
}

fn contracts_batch(
    plans: &[CustomerPlan],
    first: usize,
    ids: &IdFormat,
    calendar: &Calendar,
) -> Result<RecordBatch, BillsheetError> {
    let monthly_commit = MONTHLY_COMMIT
        .iter()
        .map(|amount| parse_constant(amount, MONEY))
        .collect::<Result<Vec<_>, _>>()?;
    let discounts = DISCOUNTS
        .iter()
        .map(|discount| parse_constant(discount, FRACTION))
        .collect::<Result<Vec<_>, _>>()?;
    let anchor = calendar.start.to_epoch_days();
    let indexes = first..first + plans.len();
    let contract_ids: StringArray = indexes
        .clone()
        .map(|index| Some(ids.contract_id(index)))
        .collect();
    let customer_ids: StringArray =
        indexes.map(|index| Some(ids.customer_id(index))).collect();
    let commit_amounts = plans
        .iter()
        .map(|plan| {
            let monthly = monthly_commit[usize::from(plan.currency)];
            plan.commit.map(|interval| match interval {
                CommitInterval::Month => monthly,
                CommitInterval::Quarter => 3 * monthly,
            })
        })
        .collect();
    let commit_intervals = plans.iter().map(|plan| {
        plan.commit.map(|interval| match interval {
            CommitInterval::Month => "month",
            CommitInterval::Quarter => "quarter",
        })
    });
    let columns: Vec<ArrayRef> = vec![
        Arc::new(contract_ids),
        Arc::new(customer_ids),
        string_array(
            plans
                .iter()
                .map(|plan| Some(RATE_CARDS[usize::from(plan.card_currency)])),
        ),
        Arc::new(
            plans
                .iter()
                .map(|plan| Some(plan.start_day))
                .collect::<Date32Array>(),
        ),
        Arc::new(
            plans
                .iter()
                .map(|plan| plan.end_day)
                .collect::<Date32Array>(),
        ),
        Arc::new(plans.iter().map(|_| Some(anchor)).collect::<Date32Array>()),
        decimal_array(commit_amounts, MONEY)?,
        string_array(commit_intervals),
        decimal_array(
            plans
                .iter()
                .map(|plan| plan.discount.map(|index| discounts[usize::from(index)]))
                .collect(),
            FRACTION,
        )?,
        Arc::new(
            plans
                .iter()
                .map(|plan| Some(plan.grace_days))
                .collect::<Int32Array>(),
        ),
    ];
    record_batch(contracts_schema(), columns)
}

/// Item rows of each contract: its seats and the platform fee from its start, and its
/// seat change as a row with the difference.
fn contract_items_batch(
    plans: &[CustomerPlan],
    first: usize,
    ids: &IdFormat,
) -> Result<RecordBatch, BillsheetError> {
    let rows = plans.len() * 3;
    let mut contract_ids =
        StringBuilder::with_capacity(rows, rows * (ids.customer_width + 1));
    let mut charge_ids = StringBuilder::with_capacity(rows, rows * 8);
    let mut quantities = Vec::with_capacity(rows);
    let mut effective_from = Vec::with_capacity(rows);
    let mut recorded_at = Vec::with_capacity(rows);
    for (offset, plan) in plans.iter().enumerate() {
        let contract_id = ids.contract_id(first + offset);
        let mut push =
            |charge_id: &str, quantity: i32, day: i32, recorded: Option<i64>| {
                contract_ids.append_value(&contract_id);
                charge_ids.append_value(charge_id);
                quantities.push(Some(i128::from(quantity) * i128::from(QUANTITY_ONE)));
                effective_from.push(Some(day));
                recorded_at.push(recorded);
            };
        push("seats", plan.seats, plan.start_day, None);
        push("platform", 1, plan.start_day, None);
        if let Some(change) = &plan.seat_change {
            push(
                "seats",
                change.delta,
                change.day,
                Some(change.recorded_at_micros),
            );
        }
    }
    let row_count = effective_from.len();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(contract_ids.finish()),
        Arc::new(charge_ids.finish()),
        decimal_array(quantities, QUANTITY)?,
        Arc::new(Date32Array::from(effective_from)),
        Arc::new(Date32Array::from(vec![None; row_count])),
        timestamp_array(recorded_at),
    ];
    record_batch(contract_items_schema(), columns)
}

/// Builds the rows of [`PRICE_ROWS`] once per rate card, each card in its own currency.
fn prices_batch() -> Result<RecordBatch, BillsheetError> {
    let rows: Vec<(usize, &PriceRow)> = (0..CURRENCIES.len())
        .flat_map(|currency| PRICE_ROWS.iter().map(move |row| (currency, row)))
        .collect();
    let optional_decimal = |text: Option<&str>, decimal| {
        text.map(|text| parse_constant(text, decimal)).transpose()
    };
    let mut up_to = Vec::with_capacity(rows.len());
    let mut unit_price = Vec::with_capacity(rows.len());
    let mut flat_fee = Vec::with_capacity(rows.len());
    let mut package_size = Vec::with_capacity(rows.len());
    for &(currency, row) in &rows {
        up_to.push(optional_decimal(row.up_to, QUANTITY)?);
        unit_price.push(optional_decimal(
            row.unit_price.map(|prices| prices[currency]),
            UNIT_PRICE,
        )?);
        flat_fee.push(optional_decimal(
            row.flat_fee.map(|fees| fees[currency]),
            MONEY,
        )?);
        package_size.push(optional_decimal(row.package_size, QUANTITY)?);
    }
    let no_dates = || -> ArrayRef { Arc::new(Date32Array::from(vec![None; rows.len()])) };
    let columns: Vec<ArrayRef> = vec![
        string_array(rows.iter().map(|&(currency, _)| Some(RATE_CARDS[currency]))),
        string_array(rows.iter().map(|_| None)),
        string_array(rows.iter().map(|(_, row)| Some(row.charge_id))),
        string_array(rows.iter().map(|(_, row)| Some(row.charge_type))),
        string_array(rows.iter().map(|(_, row)| row.meter)),
        string_array(rows.iter().map(|(_, row)| row.dimension)),
        string_array(rows.iter().map(|(_, row)| Some(row.pricing_model))),
        Arc::new(
            rows.iter()
                .map(|(_, row)| Some(row.tier))
                .collect::<Int32Array>(),
        ),
        decimal_array(up_to, QUANTITY)?,
        decimal_array(unit_price, UNIT_PRICE)?,
        decimal_array(flat_fee, MONEY)?,
        decimal_array(package_size, QUANTITY)?,
        string_array(rows.iter().map(|_| Some("month"))),
        string_array(rows.iter().map(|(_, row)| Some(row.timing))),
        string_array(rows.iter().map(|&(currency, _)| Some(CURRENCIES[currency]))),
        no_dates(),
        no_dates(),
        string_array(rows.iter().map(|(_, row)| Some(row.description))),
    ];
    record_batch(prices_schema(), columns)
}

fn meters_batch() -> Result<RecordBatch, BillsheetError> {
    let columns: Vec<ArrayRef> = vec![
        string_array(METERS.iter().map(|meter| Some(meter.name))),
        string_array(METERS.iter().map(|meter| Some(meter.aggregation))),
        string_array(METERS.iter().map(|meter| Some(meter.unit))),
    ];
    record_batch(meters_schema(), columns)
}

/// Daily rates of each pair in [`FX_PAIRS`] from the lake's first day through the month
/// after its last, as a bounded random walk, so invoices issued after the last month have
/// a rate too.
fn fx_rates_batch(seed: u64, calendar: &Calendar) -> Result<RecordBatch, BillsheetError> {
    let mut rng = stream_rng(seed, FX_STREAM);
    let first_day = calendar.start.to_epoch_days();
    let after_last_day = calendar
        .end()
        .checked_add_months(Months::new(1))
        .map(|date| date.to_epoch_days())
        .ok_or_else(|| {
            invalid_options("the lake ends past the last supported date".to_string())
        })?;
    let days = (after_last_day - first_day) as usize;
    let mut dates = Vec::with_capacity(days * FX_PAIRS.len());
    let mut from = Vec::with_capacity(days * FX_PAIRS.len());
    let mut to = Vec::with_capacity(days * FX_PAIRS.len());
    let mut rates = Vec::with_capacity(days * FX_PAIRS.len());
    for (from_currency, to_currency, first_rate, max_step) in FX_PAIRS {
        let mut rate = first_rate;
        for day in first_day..after_last_day {
            dates.push(day);
            from.push(Some(CURRENCIES[usize::from(from_currency)]));
            to.push(Some(CURRENCIES[usize::from(to_currency)]));
            rates.push(Some(i128::from(rate)));
            // Keep the rate within 20 % of where it started.
            let next = rate + rng.random_range(-max_step..=max_step);
            rate = next.clamp(first_rate * 4 / 5, first_rate * 6 / 5);
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Date32Array::from(dates)),
        string_array(from),
        string_array(to),
        decimal_array(rates, FX_RATE)?,
    ];
    record_batch(fx_rates_schema(), columns)
}

fn usage_batch(events: &[Event], ids: &IdFormat) -> Result<RecordBatch, BillsheetError> {
    let rows = events.len();
    let mut event_ids =
        StringBuilder::with_capacity(rows, rows * (IdFormat::EVENT_WIDTH + 3));
    let mut customer_ids =
        StringBuilder::with_capacity(rows, rows * (ids.customer_width + 1));
    let mut meters = StringBuilder::with_capacity(rows, rows * 8);
    let mut dimensions = StringBuilder::with_capacity(rows, rows * 2);
    let mut text = String::new();

    for event in events {
        IdFormat::write_event_id(&mut text, event.serial);
        event_ids.append_value(&text);
        ids.write_customer_id(&mut text, event.customer);
        customer_ids.append_value(&text);
        meters.append_value(METERS[usize::from(event.meter)].name);
        dimensions.append_option(event.model.map(|model| MODELS[usize::from(model)]));
    }

    let quantities = Decimal128Array::from_iter_values(
        events.iter().map(|event| i128::from(event.quantity)),
    )
    .with_precision_and_scale(QUANTITY.0, QUANTITY.1)
    .map_err(|error| internal_error("invalid decimal type", error))?;
    let ts = TimestampMicrosecondArray::from_iter_values(
        events.iter().map(|event| event.ts_micros),
    )
    .with_timezone("UTC");
    let received_at = TimestampMicrosecondArray::from_iter_values(
        events.iter().map(|event| event.received_at_micros),
    )
    .with_timezone("UTC");

    let columns: Vec<ArrayRef> = vec![
        Arc::new(event_ids.finish()),
        Arc::new(customer_ids.finish()),
        Arc::new(meters.finish()),
        Arc::new(ts),
        Arc::new(quantities),
        Arc::new(dimensions.finish()),
        Arc::new(received_at),
    ];
    record_batch(usage_schema(), columns)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::array::{Array, AsArray};
    use arrow::compute::concat_batches;
    use arrow::datatypes::{Date32Type, Int32Type, TimestampMicrosecondType};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    fn small_options(folder: &Path) -> GenerateOptions {
        GenerateOptions {
            out: folder.join("lake"),
            customers: 500,
            events: 30_000,
            seed: 11,
            ..GenerateOptions::default()
        }
    }

    fn read_table(path: &Path) -> RecordBatch {
        let file = File::open(path)
            .unwrap_or_else(|error| panic!("open {}: {error}", path.display()));
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let schema = builder.schema().clone();
        let reader = builder.build().unwrap();
        let batches = reader.collect::<Result<Vec<_>, _>>().unwrap();
        concat_batches(&schema, &batches).unwrap()
    }

    fn read_usage(summary: &GenerateSummary) -> RecordBatch {
        let batches: Vec<RecordBatch> = summary
            .files
            .iter()
            .filter(|path| path.to_string_lossy().contains("usage"))
            .map(|path| read_table(path))
            .collect();
        concat_batches(&usage_schema(), &batches).unwrap()
    }

    fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
        let array = batch.column_by_name(column).unwrap().as_string::<i32>();
        array
            .iter()
            .map(|value| value.map(str::to_string))
            .collect()
    }

    fn micros(batch: &RecordBatch, column: &str) -> Vec<i64> {
        let array = batch
            .column_by_name(column)
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>();
        array.values().to_vec()
    }

    fn days(batch: &RecordBatch, column: &str) -> Vec<Option<i32>> {
        let array = batch
            .column_by_name(column)
            .unwrap()
            .as_primitive::<Date32Type>();
        array.iter().collect()
    }

    fn decimals(batch: &RecordBatch, column: &str) -> Vec<Option<i128>> {
        let array = batch
            .column_by_name(column)
            .unwrap()
            .as_primitive::<Decimal128Type>();
        array.iter().collect()
    }

    fn relative_files(summary: &GenerateSummary, out: &Path) -> Vec<PathBuf> {
        summary
            .files
            .iter()
            .map(|path| path.strip_prefix(out).unwrap().to_path_buf())
            .collect()
    }

    #[test]
    fn same_seed_gives_identical_files() {
        let folder = tempfile::tempdir().unwrap();
        let first_options = small_options(&folder.path().join("first"));
        let second_options = small_options(&folder.path().join("second"));
        let first = generate(&first_options).unwrap();
        let second = generate(&second_options).unwrap();

        let first_files = relative_files(&first, &first_options.out);
        assert_eq!(first_files, relative_files(&second, &second_options.out));
        for file in &first_files {
            let first_bytes = fs::read(first_options.out.join(file)).unwrap();
            let second_bytes = fs::read(second_options.out.join(file)).unwrap();
            assert!(
                first_bytes == second_bytes,
                "{} differs between runs",
                file.display()
            );
        }
    }

    #[test]
    fn different_seed_gives_different_usage() {
        let folder = tempfile::tempdir().unwrap();
        let first = generate(&small_options(folder.path())).unwrap();
        let other_options = GenerateOptions {
            seed: 12,
            ..small_options(&folder.path().join("other"))
        };
        let other = generate(&other_options).unwrap();

        let usage = read_usage(&first);
        let other_usage = read_usage(&other);
        assert_ne!(micros(&usage, "ts"), micros(&other_usage, "ts"));
    }

    #[test]
    fn row_counts_match_options() {
        let folder = tempfile::tempdir().unwrap();
        let options = small_options(folder.path());
        let summary = generate(&options).unwrap();

        assert_eq!(summary.events, options.events);
        assert_eq!(summary.customers, options.customers);
        assert_eq!(summary.files.len(), 6 + 3);
        assert_eq!(
            read_table(&options.out.join("customers.parquet")).num_rows(),
            500
        );
        assert_eq!(
            read_table(&options.out.join("contracts.parquet")).num_rows(),
            500
        );
        assert_eq!(
            read_table(&options.out.join("prices.parquet")).num_rows(),
            3 * PRICE_ROWS.len()
        );
        assert_eq!(
            read_table(&options.out.join("meters.parquet")).num_rows(),
            METERS.len()
        );
        // 2026-01-01 through 2026-04-30 for each of two pairs.
        assert_eq!(
            read_table(&options.out.join("fx_rates.parquet")).num_rows(),
            2 * 120
        );
        let items = read_table(&options.out.join("contract_items.parquet")).num_rows();
        assert!(
            (1_000..=1_500).contains(&items),
            "{items} contract items for 500 contracts"
        );
        let month_counts: Vec<usize> = summary.files[6..]
            .iter()
            .map(|path| read_table(path).num_rows())
            .collect();
        assert_eq!(month_counts, vec![10_000, 10_000, 10_000]);
    }

    #[test]
    fn uneven_events_fill_first_months() {
        let folder = tempfile::tempdir().unwrap();
        let options = GenerateOptions {
            events: 101,
            ..small_options(folder.path())
        };
        let summary = generate(&options).unwrap();

        let month_counts: Vec<usize> = summary.files[6..]
            .iter()
            .map(|path| read_table(path).num_rows())
            .collect();
        assert_eq!(month_counts, vec![34, 34, 33]);
    }

    #[test]
    fn zero_events_write_empty_month_files() {
        let folder = tempfile::tempdir().unwrap();
        let options = GenerateOptions {
            events: 0,
            ..small_options(folder.path())
        };
        let summary = generate(&options).unwrap();

        assert_eq!(summary.files.len(), 9);
        for path in &summary.files[6..] {
            let usage = read_table(path);
            assert_eq!(usage.num_rows(), 0);
            assert_eq!(usage.schema(), usage_schema());
        }
    }

    #[test]
    fn usage_files_have_contract_schema() {
        let folder = tempfile::tempdir().unwrap();
        let options = small_options(folder.path());
        let summary = generate(&options).unwrap();

        let usage_files: Vec<PathBuf> = relative_files(&summary, &options.out)
            .into_iter()
            .skip(6)
            .collect();
        let expected_files: Vec<PathBuf> = ["2026-01", "2026-02", "2026-03"]
            .iter()
            .map(|month| PathBuf::from(format!("usage/month={month}/part-000.parquet")))
            .collect();
        assert_eq!(usage_files, expected_files);

        let utc = timestamp_type();
        let expected = [
            ("event_id", DataType::Utf8, false),
            ("customer_id", DataType::Utf8, false),
            ("meter", DataType::Utf8, false),
            ("ts", utc.clone(), false),
            ("quantity", DataType::Decimal128(18, 9), true),
            ("dimension", DataType::Utf8, true),
            ("received_at", utc, true),
        ];
        for path in &summary.files[6..] {
            let file = File::open(path).unwrap();
            let schema = ParquetRecordBatchReaderBuilder::try_new(file)
                .unwrap()
                .schema()
                .clone();
            assert_eq!(schema.fields().len(), expected.len());
            for (field, (name, data_type, nullable)) in
                schema.fields().iter().zip(&expected)
            {
                assert_eq!(field.name(), name);
                assert_eq!(field.data_type(), data_type, "type of {name}");
                assert_eq!(field.is_nullable(), *nullable, "nullability of {name}");
            }
        }
    }

    #[test]
    fn batch_size_changes_only_row_groups() {
        let folder = tempfile::tempdir().unwrap();
        let options = small_options(folder.path());
        let summary = generate(&options).unwrap();
        let small_batch_options = small_options(&folder.path().join("small-batches"));
        let small_batch_summary =
            generate_with_batch_rows(&small_batch_options, 1_000).unwrap();

        let file = File::open(&small_batch_summary.files[6]).unwrap();
        let metadata = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .metadata()
            .clone();
        assert_eq!(metadata.num_row_groups(), 10);
        for (path, small_batch_path) in
            summary.files.iter().zip(&small_batch_summary.files)
        {
            assert_eq!(
                read_table(path),
                read_table(small_batch_path),
                "{}",
                path.display()
            );
        }
    }

    #[test]
    fn redeliveries_repeat_rows_unchanged() {
        let folder = tempfile::tempdir().unwrap();
        let summary = generate(&small_options(folder.path())).unwrap();
        let usage = read_usage(&summary);

        let event_ids = strings(&usage, "event_id");
        let customers = strings(&usage, "customer_id");
        let meters = strings(&usage, "meter");
        let dimensions = strings(&usage, "dimension");
        let ts = micros(&usage, "ts");
        let received_at = micros(&usage, "received_at");
        let quantities = decimals(&usage, "quantity");
        let row = |index: usize| {
            (
                &customers[index],
                &meters[index],
                &dimensions[index],
                ts[index],
                received_at[index],
                quantities[index],
            )
        };
        let mut first_rows: HashMap<&Option<String>, usize> = HashMap::new();
        let mut redeliveries = 0;
        for (index, event_id) in event_ids.iter().enumerate() {
            match first_rows.get(event_id) {
                Some(&first) => {
                    redeliveries += 1;
                    assert_eq!(
                        row(index),
                        row(first),
                        "redelivery of {event_id:?} differs"
                    );
                }
                None => {
                    first_rows.insert(event_id, index);
                }
            }
        }
        // About 1 % of 30,000 rows.
        assert!(
            (150..=450).contains(&redeliveries),
            "{redeliveries} redeliveries"
        );
    }

    #[test]
    fn late_events_arrive_after_period() {
        let folder = tempfile::tempdir().unwrap();
        let options = GenerateOptions {
            events: 100_000,
            ..small_options(folder.path())
        };
        let summary = generate(&options).unwrap();
        let usage = read_usage(&summary);

        let ts = micros(&usage, "ts");
        let received_at = micros(&usage, "received_at");
        let delays: Vec<i64> = ts
            .iter()
            .zip(&received_at)
            .map(|(ts, received)| received - ts)
            .collect();
        let late = delays
            .iter()
            .filter(|&&delay| delay > 32 * MICROS_PER_DAY)
            .count();
        let on_time = delays
            .iter()
            .filter(|&&delay| (0..ON_TIME_DELAY_MICROS).contains(&delay))
            .count();
        // About 0.05 % of 100,000 rows.
        assert!((20..=100).contains(&late), "{late} late events");
        assert_eq!(late + on_time, delays.len());
    }

    #[test]
    fn events_fall_inside_contract_days() {
        let folder = tempfile::tempdir().unwrap();
        let options = small_options(folder.path());
        let summary = generate(&options).unwrap();
        let contracts = read_table(&options.out.join("contracts.parquet"));
        let usage = read_usage(&summary);

        let contract_days: HashMap<Option<String>, (Option<i32>, Option<i32>)> =
            strings(&contracts, "customer_id")
                .into_iter()
                .zip(
                    days(&contracts, "start_date")
                        .into_iter()
                        .zip(days(&contracts, "end_date")),
                )
                .collect();
        // A local day starts at 08:00 UTC in UTC-8 (Los Angeles) and at 13:00 UTC the day
        // before in UTC+11 (Sydney in summer), the extremes of the zones used.
        let hour = 3_600 * MICROS_PER_SECOND;
        let lake_end = epoch_micros(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        for (customer, ts) in strings(&usage, "customer_id")
            .iter()
            .zip(micros(&usage, "ts"))
        {
            let (start, end) = contract_days[customer];
            let start_micros = i64::from(start.unwrap()) * MICROS_PER_DAY;
            assert!(
                ts >= start_micros + 8 * hour,
                "{customer:?} has usage at {ts}, before its start"
            );
            let end_micros =
                end.map_or(lake_end, |day| i64::from(day) * MICROS_PER_DAY - 11 * hour);
            assert!(
                ts < end_micros,
                "{customer:?} has usage at {ts}, after its end"
            );
        }
    }

    #[test]
    fn usage_stays_in_its_month_partition() {
        let folder = tempfile::tempdir().unwrap();
        let summary = generate(&small_options(folder.path())).unwrap();

        for (month, path) in summary.files[6..].iter().enumerate() {
            let first = NaiveDate::from_ymd_opt(2026, 1 + month as u32, 1).unwrap();
            let next = NaiveDate::from_ymd_opt(2026, 2 + month as u32, 1).unwrap();
            let ts = micros(&read_table(path), "ts");
            assert!(
                ts.iter().all(|&ts| ts >= epoch_micros(first)),
                "{} starts early",
                path.display()
            );
            assert!(
                ts.iter().all(|&ts| ts < epoch_micros(next)),
                "{} ends late",
                path.display()
            );
        }
    }

    #[test]
    fn eur_card_customers_have_fx_rates() {
        let folder = tempfile::tempdir().unwrap();
        let options = GenerateOptions {
            customers: 3_000,
            ..small_options(folder.path())
        };
        generate(&options).unwrap();
        let customers = read_table(&options.out.join("customers.parquet"));
        let contracts = read_table(&options.out.join("contracts.parquet"));
        let fx_rates = read_table(&options.out.join("fx_rates.parquet"));

        let currencies = strings(&customers, "currency");
        let cards = strings(&contracts, "rate_card_id");
        let converted = currencies
            .iter()
            .zip(&cards)
            .filter(|(currency, card)| {
                currency.as_deref() == Some("USD")
                    && card.as_deref() == Some("STANDARD_EUR")
            })
            .count();
        // About 3 % of the 5/8 of customers in USD zones.
        assert!(
            (25..=100).contains(&converted),
            "{converted} USD customers on the EUR card"
        );

        let pairs = strings(&fx_rates, "from_currency")
            .into_iter()
            .zip(strings(&fx_rates, "to_currency"));
        let eur_days: Vec<Option<i32>> = pairs
            .zip(days(&fx_rates, "date"))
            .filter(|((from, to), _)| {
                from.as_deref() == Some("EUR") && to.as_deref() == Some("USD")
            })
            .map(|(_, day)| day)
            .collect();
        let first = options.start.to_epoch_days();
        let expected: Vec<Option<i32>> = (first..first + 120).map(Some).collect();
        assert_eq!(eur_days, expected);
        for rate in decimals(&fx_rates, "rate") {
            assert!(rate.unwrap() > 0);
        }
    }

    #[test]
    fn contract_items_cover_every_contract() {
        let folder = tempfile::tempdir().unwrap();
        let options = small_options(folder.path());
        generate(&options).unwrap();
        let contracts = read_table(&options.out.join("contracts.parquet"));
        let items = read_table(&options.out.join("contract_items.parquet"));

        let mut seats: HashMap<Option<String>, i128> = HashMap::new();
        let mut platform_rows: HashMap<Option<String>, usize> = HashMap::new();
        let mut decreases = 0;
        let charge_ids = strings(&items, "charge_id");
        let quantities = decimals(&items, "quantity");
        for ((contract, charge), quantity) in strings(&items, "contract_id")
            .into_iter()
            .zip(&charge_ids)
            .zip(&quantities)
        {
            let quantity = quantity.unwrap();
            match charge.as_deref() {
                Some("seats") => {
                    *seats.entry(contract).or_default() += quantity;
                    decreases += usize::from(quantity < 0);
                }
                Some("platform") => *platform_rows.entry(contract).or_default() += 1,
                other => panic!("unexpected charge {other:?}"),
            }
        }
        for contract in strings(&contracts, "contract_id") {
            assert!(
                seats[&contract] >= QUANTITY_ONE.into(),
                "{contract:?} ends with no seats"
            );
            assert_eq!(platform_rows[&contract], 1, "platform rows of {contract:?}");
        }
        assert!(decreases > 0, "no seat decreases");
        let late_records = micros(&items, "recorded_at")
            .iter()
            .zip(days(&items, "effective_from"))
            .zip(
                items
                    .column_by_name("recorded_at")
                    .unwrap()
                    .logical_nulls()
                    .map_or(vec![true; items.num_rows()], |nulls| nulls.iter().collect()),
            )
            .filter(|((recorded, from), valid)| {
                *valid && **recorded > i64::from(from.unwrap() + 1) * MICROS_PER_DAY
            })
            .count();
        assert!(late_records > 0, "no seat change recorded late");
    }

    #[test]
    fn prices_cover_each_rate_card() {
        let folder = tempfile::tempdir().unwrap();
        let options = small_options(folder.path());
        generate(&options).unwrap();
        let prices = read_table(&options.out.join("prices.parquet"));

        let cards = strings(&prices, "rate_card_id");
        let currencies = strings(&prices, "currency");
        for (card, currency) in RATE_CARDS.iter().zip(CURRENCIES) {
            let rows: Vec<usize> = (0..prices.num_rows())
                .filter(|&row| cards[row].as_deref() == Some(*card))
                .collect();
            assert_eq!(rows.len(), PRICE_ROWS.len(), "rows of {card}");
            assert!(
                rows.iter()
                    .all(|&row| currencies[row].as_deref() == Some(currency)),
                "currency of {card}"
            );
        }
        let tiers = prices
            .column_by_name("tier")
            .unwrap()
            .as_primitive::<Int32Type>();
        let charge_ids = strings(&prices, "charge_id");
        let api_tiers: Vec<i32> = (0..PRICE_ROWS.len())
            .filter(|&row| charge_ids[row].as_deref() == Some("api_calls"))
            .map(|row| tiers.value(row))
            .collect();
        assert_eq!(api_tiers, vec![1, 2, 3]);
        let unit_prices = decimals(&prices, "unit_price");
        // 0.0000004 USD per small-model token at scale 9.
        let small_tokens = charge_ids
            .iter()
            .position(|charge| charge.as_deref() == Some("tokens_small"))
            .unwrap();
        assert_eq!(unit_prices[small_tokens], Some(400));
    }

    #[test]
    fn rejects_invalid_options() {
        let folder = tempfile::tempdir().unwrap();
        let base = small_options(folder.path());
        let cases = [
            (
                "no customers",
                GenerateOptions {
                    customers: 0,
                    ..base.clone()
                },
                "customers must be at least 1",
            ),
            (
                "no months",
                GenerateOptions {
                    months: 0,
                    ..base.clone()
                },
                "months is 0",
            ),
            (
                "mid-month start",
                GenerateOptions {
                    start: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
                    ..base.clone()
                },
                "expected the first day of a month",
            ),
        ];
        for (case, options, expected) in cases {
            let error = generate(&options).expect_err(case).to_string();
            assert!(error.contains(expected), "{case}: {error}");
        }
        assert!(
            !base.out.exists(),
            "an invalid run created the output folder"
        );
    }

    #[test]
    fn rejects_non_empty_out_folder() {
        let folder = tempfile::tempdir().unwrap();
        let options = small_options(folder.path());
        fs::create_dir_all(&options.out).unwrap();
        fs::write(options.out.join("notes.txt"), "keep").unwrap();

        let error = generate(&options)
            .expect_err("a non-empty folder is rejected")
            .to_string();
        assert!(error.contains("is not empty"), "{error}");
        assert_eq!(
            fs::read_to_string(options.out.join("notes.txt")).unwrap(),
            "keep"
        );
    }

    #[test]
    fn accepts_empty_out_folder() {
        let folder = tempfile::tempdir().unwrap();
        let options = GenerateOptions {
            events: 100,
            ..small_options(folder.path())
        };
        fs::create_dir_all(&options.out).unwrap();

        let summary = generate(&options).unwrap();
        assert_eq!(summary.files.len(), 9);
        let hidden = fs::read_dir(options.out.join("usage/month=2026-01"))
            .unwrap()
            .count();
        assert_eq!(hidden, 1, "temporary files are left behind");
    }
}
