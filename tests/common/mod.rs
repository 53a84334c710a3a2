//! Helpers shared by the integration tests: the real binary and small CSV lakes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `billsheet` binary built by cargo for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_billsheet"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The shared folder beside the repository, or `BILLSHEET_SHARED`.
pub fn shared() -> PathBuf {
    std::env::var_os("BILLSHEET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("..").join("shared"))
}

/// Runs the binary with `args` and returns its output.
pub fn billsheet(args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .output()
        .expect("billsheet runs")
}

/// Runs `billsheet sql --format csv` and returns standard output, failing the test with
/// standard error when the command fails.
pub fn sql_csv(lake: &Path, as_of: &str, query: &str) -> String {
    let lake = lake.to_str().unwrap();
    let output = billsheet(&[
        "sql", "--lake", lake, "--as-of", as_of, "--format", "csv", query,
    ]);
    assert!(
        output.status.success(),
        "billsheet sql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A lake of CSV files in a temporary folder.
pub struct TempLake {
    pub dir: tempfile::TempDir,
}

impl TempLake {
    /// A lake with one USD customer, one contract on rate card RC from 2026-01-01 and a
    /// per-unit usage price for meter `calls`.
    pub fn basic() -> TempLake {
        let lake = TempLake {
            dir: tempfile::tempdir().unwrap(),
        };
        lake.write(
            "customers.csv",
            "customer_id,name,currency,timezone,tax_rate,net_terms_days\n\
             C1,One,USD,UTC,0,30\n",
        );
        lake.write(
            "contracts.csv",
            "contract_id,customer_id,rate_card_id,start_date\nK1,C1,RC,2026-01-01\n",
        );
        lake.write(
            "prices.csv",
            "rate_card_id,charge_id,charge_type,meter,pricing_model,unit_price,currency\n\
             RC,calls,usage,calls,per_unit,0.5,USD\n",
        );
        lake
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap();
    }
}
