//! The main job on real data: the CDNOW purchase log as a pay-as-you-go lake, billed
//! monthly in arrears through 1998-07-01, reconciled to the cent against the log itself.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;

use chrono::Datelike;
use rust_decimal::Decimal;

use common::{billsheet, repo, shared, sql_csv};

fn cdnow_log() -> PathBuf {
    shared().join("data/real/cdnow/CDNOW_master.txt")
}

/// Sums the log's dollar values per customer and purchase month (`YYYY-MM-01`).
fn purchases_by_month() -> BTreeMap<(String, String), Decimal> {
    let text = std::fs::read_to_string(cdnow_log()).expect("CDNOW log readable");
    let mut sums = BTreeMap::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 4 {
            continue;
        }
        let customer = format!("K{}", fields[0]);
        let month = format!("{}-{}-01", &fields[1][..4], &fields[1][4..6]);
        let value = Decimal::from_str(fields[3]).unwrap();
        *sums.entry((customer, month)).or_insert(Decimal::ZERO) += value;
    }
    sums
}

#[test]
fn cdnow_run_reconciles_to_the_cent() {
    assert!(
        cdnow_log().is_file(),
        "CDNOW log not found at {}",
        cdnow_log().display()
    );
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("cdnow");
    let status = Command::new("python3")
        .arg(repo().join("data/make-cdnow-lake"))
        .args([
            "--source",
            cdnow_log().to_str().unwrap(),
            "--out",
            lake.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success(), "make-cdnow-lake failed");

    let out = dir.path().join("out");
    let output = billsheet(&[
        "run",
        "--lake",
        lake.to_str().unwrap(),
        "--as-of",
        "1998-07-01",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("manifest.json")).unwrap(),
    )
    .unwrap();
    let totals = &manifest["invoice_totals"][0];
    assert_eq!(totals["currency"], "USD");
    assert_eq!(totals["total"], "2500315.63");
    assert_eq!(manifest["usage"]["deliveries"], 69_659);
    assert_eq!(manifest["usage"]["billed"], 69_659);
    assert_eq!(manifest["usage"]["balanced"], true);

    // Usage revenue is recognized in the months of the purchases: all of it, exactly.
    let revenue = sql_csv(
        &lake,
        "1998-07-01",
        "select sum(amount) as total from revenue_schedule",
    );
    assert_eq!(revenue, "total\n2500315.6300\n");

    // A few customers' monthly invoices equal their purchases in the log.
    let expected = purchases_by_month();
    let customers = ["K00001", "K00002", "K00100", "K12345", "K23570"];
    let list = customers.map(|c| format!("'{c}'")).join(", ");
    let query = format!(
        "select contract_id, period_start, invoice_date, amount from invoice_lines \
         where contract_id in ({list}) order by contract_id, period_start"
    );
    let csv = sql_csv(&lake, "1998-07-01", &query);
    let mut actual = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let amount = Decimal::from_str(cells[3]).unwrap();
        // The first period starts on the first purchase; later ones on the 1st.
        let start: chrono::NaiveDate = cells[1].parse().unwrap();
        let month = start.with_day(1).unwrap();
        actual.insert((cells[0].to_string(), month.to_string()), amount);
        let invoiced: chrono::NaiveDate = cells[2].parse().unwrap();
        assert_eq!(
            invoiced,
            month + chrono::Months::new(1),
            "arrears invoice date"
        );
    }
    let expected_months: BTreeMap<_, _> = expected
        .into_iter()
        .filter(|((c, _), v)| customers.contains(&c.as_str()) && !v.is_zero())
        .collect();
    assert_eq!(actual, expected_months);
}
