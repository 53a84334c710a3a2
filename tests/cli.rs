//! Command-line behaviour, through the real `billsheet` binary.

mod common;

use common::{billsheet, sql_csv, TempLake};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[test]
fn text_in_date_column_names_row_and_value() {
    let lake = TempLake::basic();
    lake.write(
        "contracts.csv",
        "contract_id,customer_id,rate_card_id,start_date\nK1,C1,RC,2026-01-01\nK2,C1,RC,soon\n",
    );
    let output = billsheet(&["validate", "--lake", lake.path().to_str().unwrap()]);
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("table contracts"), "{text}");
    assert!(text.contains("row 2"), "{text}");
    assert!(text.contains("column start_date"), "{text}");
    assert!(text.contains("'soon'"), "{text}");

    let output = billsheet(&[
        "sql",
        "--lake",
        lake.path().to_str().unwrap(),
        "--as-of",
        "2026-02-01",
        "select count(*) from invoices",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("column start_date"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unknown_currency_is_invalid_input() {
    let lake = TempLake::basic();
    lake.write(
        "customers.csv",
        "customer_id,currency\nC1,USD\nC2,DOLLARS\n",
    );
    let output = billsheet(&["validate", "--lake", lake.path().to_str().unwrap()]);
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("table customers, row 2, column currency, value 'DOLLARS'"),
        "{text}"
    );
    assert!(text.contains("unknown currency"), "{text}");
}

#[test]
fn tiers_out_of_order_are_invalid_input() {
    let lake = TempLake::basic();
    lake.write(
        "prices.csv",
        "rate_card_id,charge_id,charge_type,meter,pricing_model,tier,up_to,unit_price,currency\n\
         RC,calls,usage,calls,graduated,1,5000,0.10,USD\n\
         RC,calls,usage,calls,graduated,2,1000,0.08,USD\n\
         RC,calls,usage,calls,graduated,3,,0.05,USD\n",
    );
    let output = billsheet(&["validate", "--lake", lake.path().to_str().unwrap()]);
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("table prices, row 2, column up_to, value '1000'"),
        "{text}"
    );
    assert!(text.contains("must ascend"), "{text}");
}

#[test]
fn usage_for_unknown_customer_is_rejected() {
    let lake = TempLake::basic();
    lake.write(
        "usage.csv",
        "event_id,customer_id,meter,ts,quantity\n\
         e1,C1,calls,2026-01-05T00:00:00Z,10\n\
         e2,C9,calls,2026-01-05T00:00:00Z,10\n\
         e3,C1,calls,yesterday,10\n",
    );
    let rejects = sql_csv(
        lake.path(),
        "2026-02-01",
        "select event_id, reason from usage_rejects order by event_id",
    );
    assert_eq!(
        rejects,
        "event_id,reason\ne2,unknown customer C9\ne3,invalid ts: yesterday\n"
    );
    let lines = sql_csv(
        lake.path(),
        "2026-02-01",
        "select amount from invoice_lines",
    );
    assert_eq!(lines, "amount\n5.0000\n");
}

#[test]
fn run_writes_views_and_balanced_manifest() {
    let lake = TempLake::basic();
    lake.write(
        "usage.csv",
        "event_id,customer_id,meter,ts,quantity\n\
         e1,C1,calls,2026-01-05T00:00:00Z,10\n\
         e1,C1,calls,2026-01-05T00:00:00Z,10\n\
         e2,C1,calls,2026-02-05T00:00:00Z,4\n\
         e3,C9,calls,2026-01-05T00:00:00Z,1\n",
    );
    let out = lake.path().join("run");
    let output = billsheet(&[
        "run",
        "--lake",
        lake.path().to_str().unwrap(),
        "--as-of",
        "2026-02-10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    for view in [
        "invoices",
        "invoice_lines",
        "rated_usage",
        "receivables",
        "revenue_waterfall_pivot",
        "usage_rejects",
        "billing_errors",
    ] {
        assert!(
            out.join(format!("{view}.parquet")).is_file(),
            "{view} missing"
        );
    }
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("manifest.json")).unwrap(),
    )
    .unwrap();
    let usage = &manifest["usage"];
    assert_eq!(usage["deliveries"], 4);
    assert_eq!(usage["billed"], 1);
    assert_eq!(usage["pending"], 1);
    assert_eq!(usage["redelivered"], 1);
    assert_eq!(usage["rejected"], 1);
    assert_eq!(usage["balanced"], true);
    assert_eq!(manifest["invoice_totals"][0]["total"], "5");

    // A second run writes the same bytes: the run sorts every view.
    let parquet_files = |dir: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    let first = parquet_files(&out);
    let output = billsheet(&[
        "run",
        "--lake",
        lake.path().to_str().unwrap(),
        "--as-of",
        "2026-02-10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let second = parquet_files(&out);
    assert_eq!(second.len(), first.len());
    for ((name, bytes), (_, first_bytes)) in second.iter().zip(&first) {
        assert!(bytes == first_bytes, "{name} differs between two runs");
    }
    let leftovers: Vec<_> = std::fs::read_dir(lake.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "staging folders left behind");
}

#[test]
fn sql_pivots_the_waterfall_on_revenue_months() {
    let lake = TempLake::basic();
    lake.write(
        "prices.csv",
        "rate_card_id,charge_id,charge_type,pricing_model,flat_fee,interval,timing,currency\n\
         RC,platform,recurring,flat,1200,year,advance,USD\n",
    );
    lake.write(
        "contract_items.csv",
        "contract_id,charge_id,quantity,effective_from\nK1,platform,1,2026-01-01\n",
    );
    let path = lake.path().to_str().unwrap();
    let query = "select * from revenue_waterfall";
    let output = billsheet(&[
        "sql",
        "--lake",
        path,
        "--as-of",
        "2026-01-15",
        "--format",
        "csv",
        "--pivot",
        "month:amount",
        query,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let months: Vec<String> = (1..=12).map(|m| format!("2026-{m:02}-01")).collect();
    assert_eq!(header[..2], ["invoice_month", "currency"]);
    assert_eq!(header[2..14], months);
    assert_eq!(header[14], "total");
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(row[..2], ["2026-01-01", "USD"]);
    // January gets 31 of the year's 365 days of the fee, rounded to the cent.
    assert_eq!(row[2], "101.9200");
    let cents: i64 = row[2..14]
        .iter()
        .map(|cell| cell.replace('.', "").parse::<i64>().unwrap())
        .sum();
    assert_eq!(cents, 12_000_000);
    assert_eq!(row[14], "1200.0000");
    assert_eq!(lines.next(), None);

    let missing = billsheet(&[
        "sql",
        "--lake",
        path,
        "--as-of",
        "2026-01-15",
        "--pivot",
        "period:amount",
        query,
    ]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("the result has no column 'period'"),
        "{}",
        stderr(&missing)
    );

    let text_value = billsheet(&[
        "sql",
        "--lake",
        path,
        "--as-of",
        "2026-01-15",
        "--pivot",
        "month:currency",
        query,
    ]);
    assert!(!text_value.status.success());
    assert!(
        stderr(&text_value).contains("the value column 'currency' is Utf8, not a number"),
        "{}",
        stderr(&text_value)
    );

    // Without key columns the grid is one row.
    let no_keys = billsheet(&[
        "sql",
        "--lake",
        path,
        "--as-of",
        "2026-01-15",
        "--format",
        "csv",
        "--pivot",
        "month:amount",
        "select month, amount from revenue_waterfall where month < date '2026-03-01'",
    ]);
    assert!(no_keys.status.success(), "{}", stderr(&no_keys));
    assert_eq!(
        String::from_utf8(no_keys.stdout).unwrap(),
        "2026-01-01,2026-02-01,total\n101.9200,92.0500,193.9700\n"
    );
}

#[test]
fn duplicate_dunning_threshold_is_invalid() {
    let lake = TempLake::basic();
    lake.write(
        "dunning_policy.csv",
        "stage,days_overdue\ncall,28\nphone,28\n",
    );
    let output = billsheet(&["validate", "--lake", lake.path().to_str().unwrap()]);
    assert!(!output.status.success());
    let message = stderr(&output) + &String::from_utf8_lossy(&output.stdout);
    assert!(
        message.contains(
            "table dunning_policy, row 2, column days_overdue, value '28': duplicate key, \
             first seen in row 1"
        ),
        "{message}"
    );
}

#[test]
fn missing_required_table_is_named() {
    let lake = TempLake::basic();
    std::fs::remove_file(lake.path().join("prices.csv")).unwrap();
    let output = billsheet(&[
        "sql",
        "--lake",
        lake.path().to_str().unwrap(),
        "--as-of",
        "2026-02-01",
        "select 1",
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("required table prices not found"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn sql_formats_json_and_table() {
    let lake = TempLake::basic();
    let output = billsheet(&[
        "sql",
        "--lake",
        lake.path().to_str().unwrap(),
        "--as-of",
        "2026-02-01",
        "--format",
        "json",
        "select 1 as one",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "[{\"one\":1}]"
    );
    let output = billsheet(&[
        "sql",
        "--lake",
        lake.path().to_str().unwrap(),
        "--as-of",
        "2026-02-01",
        "select 'x' as letter",
    ]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("| letter |"));
}

#[test]
fn functions_lists_every_function() {
    let output = billsheet(&["functions"]);
    let text = String::from_utf8_lossy(&output.stdout);
    for name in [
        "local_date",
        "billing_period_start",
        "rate_tiers",
        "money_amount",
        "round_money",
    ] {
        assert!(
            text.contains(&format!("{name}(")),
            "{name} missing from:\n{text}"
        );
    }
}

#[test]
fn run_shows_progress_on_a_terminal_only() {
    let lake = TempLake::basic();
    let out = lake.path().join("run");

    // Piped standard error, as in logs and scripts: no bar.
    let piped = billsheet(&[
        "run",
        "--lake",
        lake.path().to_str().unwrap(),
        "--as-of",
        "2026-02-10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert!(
        !stderr(&piped).contains("issuing invoices"),
        "{}",
        stderr(&piped)
    );

    // `script` runs the command on a pseudo-terminal and records what it shows.
    let command = format!(
        "'{}' run --lake '{}' --as-of 2026-02-10 --out '{}'",
        common::binary().display(),
        lake.path().display(),
        out.display()
    );
    let record = lake.path().join("terminal.log");
    let terminal_run = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &command])
        .arg(&record)
        .env("TERM", "xterm")
        .output()
        .expect("script (util-linux) runs");
    assert!(terminal_run.status.success(), "{}", stderr(&terminal_run));

    // The bar is drawn at most a few times a second, so only its first state is sure to
    // be seen on a run this short.
    let screen = std::fs::read_to_string(&record).unwrap();
    assert!(screen.contains("] 0/"), "{screen}");
    assert!(
        screen.contains("issuing invoices into the ledger"),
        "{screen}"
    );
    assert!(screen.contains("wrote "), "{screen}");
}
