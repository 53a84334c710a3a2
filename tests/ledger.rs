//! The ledger of issued invoices, through the real `billsheet run`: numbering, reruns,
//! in-place edits, the lock, leftovers of interrupted runs and runs killed at random
//! moments.

mod ledger_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ledger_support::{
    column, copy_dir, entries_starting_with, parquet_text, read_ledger_text, run,
    run_command, run_ok, Random,
};

/// Writes a CSV lake with a USD customer in UTC (10 % tax) whose contract K1 has 5 seats
/// and per-call usage, and a EUR customer in Berlin whose contract K2 starts mid-January.
fn write_basic_lake(lake: &Path) {
    std::fs::create_dir_all(lake).unwrap();
    let files = [
        (
            "customers.csv",
            "customer_id,name,currency,timezone,tax_rate,net_terms_days\n\
             C1,One,USD,UTC,0.1,30\n\
             C2,Two,EUR,Europe/Berlin,0,15\n",
        ),
        (
            "contracts.csv",
            "contract_id,customer_id,rate_card_id,start_date\n\
             K1,C1,RC_USD,2026-01-01\n\
             K2,C2,RC_EUR,2026-01-15\n",
        ),
        (
            "prices.csv",
            "rate_card_id,charge_id,charge_type,meter,pricing_model,unit_price,currency\n\
             RC_USD,seats,recurring,,per_unit,10,USD\n\
             RC_USD,calls,usage,calls,per_unit,0.5,USD\n\
             RC_EUR,seats,recurring,,per_unit,9,EUR\n",
        ),
        (
            "contract_items.csv",
            "contract_id,charge_id,quantity,effective_from\n\
             K1,seats,5,2026-01-01\n\
             K2,seats,3,2026-01-15\n",
        ),
        (
            "usage.csv",
            "event_id,customer_id,meter,ts,quantity\n\
             e1,C1,calls,2026-01-05T10:00:00Z,10\n\
             e2,C1,calls,2026-02-07T10:00:00Z,4\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(lake.join(name), text).unwrap();
    }
}

/// Returns the invoice ids of the `invoices` view on `as_of`, in (invoice_date,
/// invoice_id) order.
fn invoice_ids(lake: &Path, as_of: &str) -> Vec<String> {
    let output = Command::new(ledger_support::binary())
        .args(["sql", "--lake", lake.to_str().unwrap(), "--as-of", as_of])
        .args(["--format", "csv"])
        .arg("select invoice_id from invoices order by invoice_date, invoice_id")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// Returns every file under the ledger folder of `lake` with its bytes, except the lock.
fn ledger_files(lake: &Path) -> BTreeMap<String, Vec<u8>> {
    fn collect(folder: &Path, root: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                collect(&path, root, files);
            } else if path.file_name().unwrap() != ".lock" {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    collect(&lake.join("ledger"), &lake.join("ledger"), &mut files);
    files
}

fn numbers(from: i64, to: i64) -> Vec<String> {
    (from..=to).map(|n| n.to_string()).collect()
}

#[test]
fn ledger_numbers_runs_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    write_basic_lake(&lake);
    let out = dir.path().join("out");

    // The first run issues every invoice due through its as-of date, numbered 1..N.
    let manifest = run_ok(&lake, "2026-02-10", &out);
    let expected = invoice_ids(&lake, "2026-02-10");
    assert_eq!(
        expected.len(),
        3,
        "K1 Jan 1, K2 Jan 15, K1 Feb 1: {expected:?}"
    );
    let ledger = &manifest["ledger"];
    assert_eq!(ledger["issued"], 3);
    assert_eq!(ledger["batch"], "batch-000001");
    assert_eq!(ledger["first_number"], 1);
    assert_eq!(ledger["last_number"], 3);
    assert_eq!(ledger["ledger_invoices"], 3);
    assert_eq!(ledger["differences"], 0);
    let text = read_ledger_text(&lake);
    assert_eq!(text.invoice_column("invoice_id"), expected);
    assert_eq!(text.invoice_column("invoice_number"), numbers(1, 3));
    assert_eq!(text.invoice_column("issued_as_of"), vec!["2026-02-10"; 3]);
    let issued_lines = column(&text.lines, "invoice_id");
    assert!(issued_lines.contains(&"INV-K1-2026-02-01".to_string()));

    // The ledger is not an input: no input checksum covers it.
    for input in manifest["inputs"].as_array().unwrap() {
        let file = input["file"].as_str().unwrap();
        assert!(
            !file.contains("/ledger/"),
            "ledger file {file} read as input"
        );
    }

    // A second run on the same day issues nothing and leaves the ledger as it was.
    let before = ledger_files(&lake);
    let output = run(&lake, "2026-02-10", &out);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ledger: issued nothing"), "{stderr}");
    let ledger = &ledger_support::read_manifest(&out)["ledger"];
    assert_eq!(ledger["issued"], 0);
    assert_eq!(ledger["batch"], serde_json::Value::Null);
    assert_eq!(ledger["ledger_invoices"], 3);
    assert_eq!(ledger_files(&lake), before);

    // A later run continues the numbers.
    let manifest = run_ok(&lake, "2026-03-20", &out);
    let expected = invoice_ids(&lake, "2026-03-20");
    let ledger = &manifest["ledger"];
    assert_eq!(ledger["batch"], "batch-000002");
    assert_eq!(ledger["first_number"], 4);
    assert_eq!(ledger["last_number"], expected.len());
    assert_eq!(ledger["backdated"], 0);
    let text = read_ledger_text(&lake);
    assert_eq!(text.batches.len(), 2);
    assert_eq!(text.invoice_column("invoice_id"), expected);
    assert_eq!(
        text.invoice_column("invoice_number"),
        numbers(1, expected.len() as i64)
    );

    // The run's invoices output carries the ledger's numbers.
    let written = parquet_text(&out.join("invoices.parquet"));
    let by_id: BTreeMap<String, String> = column(&written, "invoice_id")
        .into_iter()
        .zip(column(&written, "invoice_number"))
        .collect();
    let in_ledger: BTreeMap<String, String> = text
        .invoice_column("invoice_id")
        .into_iter()
        .zip(text.invoice_column("invoice_number"))
        .collect();
    assert_eq!(by_id, in_ledger);
}

#[test]
fn edited_price_is_reported_not_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    write_basic_lake(&lake);
    let out = dir.path().join("out");
    run_ok(&lake, "2026-03-20", &out);
    let before = ledger_files(&lake);
    let issued = read_ledger_text(&lake);

    // Seats of RC_USD go from 10 to 12 per month, edited in place.
    let prices = std::fs::read_to_string(lake.join("prices.csv")).unwrap();
    let edited = prices.replace(
        "RC_USD,seats,recurring,,per_unit,10,",
        "RC_USD,seats,recurring,,per_unit,12,",
    );
    assert_ne!(prices, edited);
    std::fs::write(lake.join("prices.csv"), edited).unwrap();

    let output = run(&lake, "2026-03-20", &out);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("differ from their recomputation"),
        "{stderr}"
    );
    let ledger = &ledger_support::read_manifest(&out)["ledger"];
    assert_eq!(ledger["issued"], 0);
    // K1's invoices of Jan 1, Feb 1 and Mar 1 bill seats; K2's do not change.
    assert_eq!(ledger["differences"], 3);
    let first = &ledger["first_differences"][0];
    assert_eq!(first["invoice_id"], "INV-K1-2026-01-01");
    assert_eq!(first["invoice_number"], 1);
    assert_eq!(first["ledger_total"], "55");
    assert_eq!(first["recomputed_total"], "66");
    assert_eq!(first["changes"], "subtotal, tax, total, lines");

    // The ledger is unchanged, and the differences are listed in full beside the views.
    assert_eq!(ledger_files(&lake), before);
    assert_eq!(read_ledger_text(&lake), issued);
    let differences = parquet_text(&out.join("ledger_differences.parquet"));
    assert_eq!(
        column(&differences, "invoice_id"),
        vec![
            "INV-K1-2026-01-01",
            "INV-K1-2026-02-01",
            "INV-K1-2026-03-01"
        ]
    );
    assert_eq!(column(&differences, "difference")[0], "11.0000");
}

#[test]
fn held_lock_fails_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    write_basic_lake(&lake);
    let out = dir.path().join("out");
    let folder = lake.join("ledger");
    std::fs::create_dir_all(&folder).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(folder.join(".lock"))
        .unwrap();
    lock.try_lock().unwrap();

    let output = run(&lake, "2026-02-10", &out);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = format!(
        "another billsheet run holds the lock on {}",
        folder.display()
    );
    assert!(stderr.contains(&message), "{stderr}");
    assert!(entries_starting_with(&folder, "batch-").is_empty());
    assert!(!out.exists(), "output written without the lock");

    drop(lock);
    let manifest = run_ok(&lake, "2026-02-10", &out);
    assert_eq!(manifest["ledger"]["issued"], 3);
}

#[test]
fn leftovers_of_killed_run_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    write_basic_lake(&lake);
    let out = dir.path().join("out");
    run_ok(&lake, "2026-02-10", &out);

    // A batch that a killed run was writing, and its half-written output folder.
    let staging = lake.join("ledger").join(".staging-batch-000002");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join("invoices.parquet"), b"PAR1").unwrap();
    let partial_out = dir.path().join(".out.partial-4194000");
    std::fs::create_dir_all(&partial_out).unwrap();

    let manifest = run_ok(&lake, "2026-03-20", &out);
    assert_eq!(
        manifest["ledger"]["removed_staging"][0],
        ".staging-batch-000002"
    );
    assert_eq!(manifest["ledger"]["batch"], "batch-000002");
    assert!(entries_starting_with(&lake.join("ledger"), ".staging-").is_empty());
    assert!(!partial_out.exists());
    assert_eq!(read_ledger_text(&lake).batches.len(), 2);
}

#[test]
fn damaged_batch_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    write_basic_lake(&lake);
    let out = dir.path().join("out");
    run_ok(&lake, "2026-02-10", &out);
    let file = lake.join("ledger/batch-000001/invoices.parquet");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.push(0);
    std::fs::write(&file, bytes).unwrap();

    let output = run(&lake, "2026-03-20", &out);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("batch-000001 is damaged"), "{stderr}");
    assert!(stderr.contains("invoices.parquet has"), "{stderr}");
    assert!(entries_starting_with(&lake.join("ledger"), "batch-").len() == 1);
}

/// The two runs of the kill test: a mid-quarter run and a quarter-end run.
const KILL_TEST_DAYS: [&str; 2] = ["2026-02-15", "2026-03-31"];

/// Checks what a killed run leaves: every visible batch whole (billsheet's checks pass)
/// and no more batches than the runs so far can have written. Returns the batch count.
fn assert_whole_batches(lake: &Path, max_batches: usize, context: &str) -> usize {
    let batches = entries_starting_with(&lake.join("ledger"), "batch-");
    assert!(batches.len() <= max_batches, "{context}: {batches:?}");
    read_ledger_text(lake);
    batches.len()
}

/// Returns a batch record without its wall-clock time, for comparing ledgers.
fn without_time(
    mut record: billsheet::ledger::BatchRecord,
) -> billsheet::ledger::BatchRecord {
    record.written_at = String::new();
    record
}

#[test]
fn killed_runs_leave_ledger_whole() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let output = Command::new(ledger_support::binary())
        .args(["generate", "--out", source.to_str().unwrap()])
        .args([
            "--customers",
            "150",
            "--events",
            "30000",
            "--seed",
            "11",
            "--months",
            "3",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The reference: both runs without interruption, each timed.
    let reference = dir.path().join("reference");
    copy_dir(&source, &reference);
    let mut durations = Vec::new();
    for day in KILL_TEST_DAYS {
        let started = Instant::now();
        run_ok(&reference, day, &dir.path().join("reference-out"));
        durations.push(started.elapsed());
    }
    let expected = read_ledger_text(&reference);
    assert_eq!(expected.batches.len(), 2);

    // Each try kills one of the two runs after a delay spread over 0 to 1.2 times its
    // duration, checks what is left, then runs again until both runs are complete.
    let tries = 14;
    let mut random = Random::new(2026);
    // Runs killed while running, before and after their batch appeared.
    let (mut killed_before_batch, mut killed_after_batch) = (0, 0);
    for attempt in 0..tries {
        let lake = dir.path().join(format!("lake-{attempt}"));
        let out = dir.path().join(format!("out-{attempt}"));
        copy_dir(&source, &lake);
        let stage = attempt % 2;
        for day in &KILL_TEST_DAYS[..stage] {
            run_ok(&lake, day, &out);
        }
        let duration = durations[stage].as_secs_f64();
        let fraction =
            (attempt as f64 + random.range(0, 1000) as f64 / 1000.0) / tries as f64;
        let delay = Duration::from_secs_f64(duration * 1.2 * fraction);
        let mut child = run_command(&lake, KILL_TEST_DAYS[stage], &out)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let running = child.try_wait().unwrap().is_none();
        child.kill().unwrap();
        child.wait().unwrap();
        let context = format!("try {attempt}, killed after {delay:?}");
        let batches = assert_whole_batches(&lake, stage + 1, &context);
        if running && batches == stage {
            killed_before_batch += 1;
        } else if running {
            killed_after_batch += 1;
        }

        for day in &KILL_TEST_DAYS[stage..] {
            run_ok(&lake, day, &out);
        }
        let ledger = read_ledger_text(&lake);
        assert_eq!(ledger.invoices, expected.invoices, "{context}");
        assert_eq!(ledger.lines, expected.lines, "{context}");
        let records: Vec<_> = ledger.batches.into_iter().map(without_time).collect();
        let expected_records: Vec<_> =
            expected.batches.iter().cloned().map(without_time).collect();
        assert_eq!(records, expected_records, "{context}");
        assert!(
            entries_starting_with(&lake.join("ledger"), ".staging-").is_empty(),
            "{context}"
        );
        assert!(
            entries_starting_with(dir.path(), &format!(".out-{attempt}.partial"))
                .is_empty()
        );
        std::fs::remove_dir_all(&lake).unwrap();
        std::fs::remove_dir_all(&out).unwrap();
    }
    assert!(
        killed_before_batch > 0,
        "no run was killed before its batch appeared"
    );
    assert!(
        killed_after_batch > 0,
        "no run was killed after its batch appeared"
    );
}
