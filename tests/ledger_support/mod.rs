//! Helpers of the ledger tests: running `billsheet run`, reading a ledger as text rows,
//! copying lakes and a seeded random-number generator.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::array::RecordBatch;
use arrow::util::display::array_value_to_string;
use billsheet::ledger::{read_ledger, BatchRecord};

/// Returns the path of the `billsheet` binary built by cargo for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_billsheet"))
}

/// Returns the command `billsheet run --lake LAKE --as-of AS_OF --out OUT`.
pub fn run_command(lake: &Path, as_of: &str, out: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .arg("run")
        .arg("--lake")
        .arg(lake)
        .arg("--as-of")
        .arg(as_of)
        .arg("--out")
        .arg(out);
    command
}

/// Runs `billsheet run` and returns its output, whatever its exit status.
pub fn run(lake: &Path, as_of: &str, out: &Path) -> Output {
    run_command(lake, as_of, out)
        .output()
        .expect("billsheet starts")
}

/// Runs `billsheet run`, fails the test with standard error when it fails, and returns
/// the run manifest.
pub fn run_ok(lake: &Path, as_of: &str, out: &Path) -> serde_json::Value {
    let output = run(lake, as_of, out);
    assert!(
        output.status.success(),
        "billsheet run --as-of {as_of} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    read_manifest(out)
}

/// Reads `manifest.json` of the run output folder `out`.
pub fn read_manifest(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest.json is JSON")
}

/// A ledger read and checked by billsheet, with every value as text.
#[derive(Debug, PartialEq)]
pub struct LedgerText {
    pub batches: Vec<BatchRecord>,
    /// The column names, then one row per invoice in number order.
    pub invoices: Vec<Vec<String>>,
    /// The column names, then one row per line in invoice-number and line order.
    pub lines: Vec<Vec<String>>,
}

impl LedgerText {
    /// Returns the invoice rows without column `name`.
    pub fn invoices_without(&self, name: &str) -> Vec<Vec<String>> {
        let index = self.invoices[0]
            .iter()
            .position(|column| column == name)
            .expect("column exists");
        self.invoices
            .iter()
            .map(|row| {
                let mut row = row.clone();
                row.remove(index);
                row
            })
            .collect()
    }

    /// Returns the values of column `name` of the invoices, in number order.
    pub fn invoice_column(&self, name: &str) -> Vec<String> {
        let index = self.invoices[0]
            .iter()
            .position(|column| column == name)
            .expect("column exists");
        self.invoices[1..]
            .iter()
            .map(|row| row[index].clone())
            .collect()
    }
}

/// Reads the ledger of `lake` with billsheet's checks (batches without gaps, checksums,
/// numbers without gaps), failing the test when a check fails.
pub fn read_ledger_text(lake: &Path) -> LedgerText {
    let contents = read_ledger(&lake.join("ledger")).unwrap_or_else(|error| {
        panic!("ledger of {} is invalid: {error}", lake.display())
    });
    LedgerText {
        batches: contents.batches,
        invoices: batches_text(&billsheet::ledger::invoices_schema(), &contents.invoices),
        lines: batches_text(&billsheet::ledger::lines_schema(), &contents.lines),
    }
}

/// Returns the column names of `schema`, then every row of `batches` as text.
pub fn batches_text(
    schema: &arrow::datatypes::Schema,
    batches: &[RecordBatch],
) -> Vec<Vec<String>> {
    let mut rows = vec![schema
        .fields()
        .iter()
        .map(|field| field.name().clone())
        .collect::<Vec<_>>()];
    for batch in batches {
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|column| {
                        array_value_to_string(column, row).expect("value formats")
                    })
                    .collect(),
            );
        }
    }
    rows
}

/// Reads every row of a Parquet file as text, with the column names first.
pub fn parquet_text(path: &Path) -> Vec<Vec<String>> {
    let file = std::fs::File::open(path)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()));
    let builder =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap();
    let schema = builder.schema().clone();
    let batches = builder
        .build()
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    batches_text(&schema, &batches)
}

/// Returns the values of column `name` in rows read by [`parquet_text`].
pub fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let index = rows[0]
        .iter()
        .position(|column| column == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", rows[0]));
    rows[1..].iter().map(|row| row[index].clone()).collect()
}

/// Copies the folder `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Returns the names of the entries of `folder` that start with `prefix`, none when the
/// folder is missing.
pub fn entries_starting_with(folder: &Path, prefix: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix))
        .collect();
    names.sort();
    names
}

/// SplitMix64, a small seeded generator: the tests need reproducible choices, not
/// statistical quality.
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Random {
        Random(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a number in `low..high`.
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        assert!(low < high, "empty range {low}..{high}");
        low + (self.next_u64() % (high - low) as u64) as i64
    }

    /// Returns true with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64) / ((1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as i64) as usize]
    }
}
