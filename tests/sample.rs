//! The sample lake against amounts worked out by hand from the billing rules (see
//! data/README.md for the derivations).

mod common;

use std::path::PathBuf;

use common::{repo, sql_csv};

fn sample() -> PathBuf {
    repo().join("data/sample")
}

fn query(sql: &str) -> String {
    sql_csv(&sample(), "2026-06-30", sql)
}

#[test]
fn late_seats_become_adjustments() {
    let csv = query(
        "select period_start, amount from invoice_lines where contract_id = 'K001' \
         and invoice_date = date '2026-04-01' and line_type = 'adjustment' \
         order by period_start",
    );
    assert_eq!(
        csv,
        "period_start,amount\n2026-02-01,84.8200\n2026-03-01,125.0000\n"
    );
}

#[test]
fn late_usage_event_is_rerated_next_month() {
    let csv = query(
        "select charge_id, period_start, amount from invoice_lines \
         where contract_id = 'K001' and invoice_date = date '2026-05-01' \
         and line_type = 'adjustment'",
    );
    assert!(csv.contains(",2026-03-01,12.0000"), "{csv}");
}

#[test]
fn commitment_discount_and_vat_in_euros() {
    let csv = query(
        "select line_type, amount from invoice_lines where contract_id = 'K002' \
         and invoice_date = date '2026-02-01' and line_type in ('commitment', 'discount') \
         order by line_type",
    );
    assert_eq!(
        csv,
        "line_type,amount\ncommitment,224.8200\ndiscount,-40.0000\n"
    );
    let csv = query(
        "select tax, total, currency from invoices where contract_id = 'K002' \
         and invoice_date = date '2026-02-01'",
    );
    assert_eq!(csv, "tax,total,currency\n68.4000,428.4000,EUR\n");
}

#[test]
fn volume_storage_prices_peak_at_one_tier() {
    let csv = query(
        "select period_start, quantity, amount from rated_usage where contract_id = 'K002' \
         and meter = 'storage_gb' and period_start in (date '2026-04-01', date '2026-05-01') \
         order by period_start",
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[1].ends_with(",446.4000"), "{csv}");
    assert!(lines[2].ends_with(",441.8200"), "{csv}");
}

#[test]
fn annual_yen_fee_and_tax() {
    let csv = query(
        "select subtotal, tax from invoices where contract_id = 'K003' \
         and invoice_date = date '2026-02-01'",
    );
    assert_eq!(csv, "subtotal,tax\n1200000.0000,120000.0000\n");
}

#[test]
fn euro_seats_invoiced_in_dollars() {
    let csv = query(
        "select amount, currency from invoice_lines where contract_id = 'K004' \
         and invoice_date = date '2026-01-01' and line_type = 'recurring'",
    );
    assert_eq!(csv, "amount,currency\n86.8000,USD\n");
}

#[test]
fn stub_period_is_prorated() {
    let csv = query(
        "select amount from invoice_lines where contract_id = 'K005' \
         and invoice_date = date '2026-01-15' and line_type = 'recurring'",
    );
    assert_eq!(csv, "amount\n41.1300\n");
}

#[test]
fn every_delivery_is_accounted_for() {
    let csv = query("select * from usage_accounting");
    assert_eq!(
        csv,
        "deliveries,billed,pending,redelivered,rejected\n287,237,47,2,1\n"
    );
}
