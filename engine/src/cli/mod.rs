//! The `billsheet` command line: argument parsing and the subcommands.

pub mod format;
pub mod shell;

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

/// billsheet: billing as SQL views over a lake of Parquet or CSV tables.
#[derive(Debug, Parser)]
#[command(name = "billsheet", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Issue every invoice due through the as-of date and write every output view.
    Run {
        /// The lake folder.
        #[arg(long)]
        lake: PathBuf,
        /// The day of the run (YYYY-MM-DD).
        #[arg(long)]
        as_of: NaiveDate,
        /// Output folder; default <lake>/out/<as-of>.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Currency of the metrics views.
        #[arg(long, default_value = "USD")]
        reporting_currency: String,
        /// Memory limit for query execution, e.g. 4G or 512M. Operators that can spill
        /// (sorts, aggregations) spill to disk beyond it; a hash join fails instead.
        #[arg(long, value_parser = parse_bytes)]
        memory_limit: Option<usize>,
    },
    /// Run one SQL query, or open an interactive shell when no query is given.
    Sql {
        #[arg(long)]
        lake: PathBuf,
        #[arg(long)]
        as_of: NaiveDate,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write the result to this file instead of standard output.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Currency of the metrics views.
        #[arg(long, default_value = "USD")]
        reporting_currency: String,
        /// Memory limit for query execution, e.g. 4G or 512M (see `run --help`).
        #[arg(long, value_parser = parse_bytes)]
        memory_limit: Option<usize>,
        /// Pivot the result: COLUMN:VALUE makes each distinct value of COLUMN a column
        /// holding the sum of VALUE, e.g. `month:amount` on revenue_waterfall.
        #[arg(long, value_name = "COLUMN:VALUE")]
        pivot: Option<crate::pivot::PivotSpec>,
        /// The query; without it, an interactive shell starts.
        query: Option<String>,
    },
    /// Check every input of a lake against the data contract and list what is wrong.
    Validate {
        #[arg(long)]
        lake: PathBuf,
    },
    /// Write a deterministic synthetic lake of Parquet files.
    Generate {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1000)]
        customers: u64,
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Months of usage, from 2026-01-01.
        #[arg(long, default_value_t = 3)]
        months: u32,
    },
    /// List the SQL functions billsheet adds, with signatures and examples.
    Functions,
}

/// Output formats of `billsheet sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Parquet,
    Xlsx,
}

/// The smallest memory limit accepted.
const MIN_MEMORY_LIMIT: usize = 128 << 20;

/// Parses a byte size such as `4G`, `512M` or `1073741824`, at least 128M.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, factor) = match text.char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 1usize << 10),
        Some((i, 'M' | 'm')) => (&text[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("invalid size '{text}': expected e.g. 4G, 512M or bytes"))?;
    let bytes = (value * factor as f64) as usize;
    // Sorts reserve memory for merging their spilled runs up front, so a pool much below
    // this fails on any lake.
    if bytes < MIN_MEMORY_LIMIT {
        return Err(format!("size '{text}' is too small: the least is 128M"));
    }
    Ok(bytes)
}
