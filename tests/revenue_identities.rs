//! Accounting identities of the revenue views, checked on generated lakes through the
//! binary: every line's schedule adds up to the line, deferred revenue rolls forward, and
//! the waterfall adds up to the invoiced amounts before tax.

mod common;

use common::{billsheet, sql_csv};

/// Each identity as a query that returns one row per violation.
const VIOLATIONS: &str = "
with line_sums as (
  select l.invoice_id, l.line_no, l.amount,
         coalesce(sum(s.amount), 0) as scheduled
  from invoice_lines l
  left join revenue_schedule s on s.invoice_id = l.invoice_id and s.line_no = l.line_no
  group by l.invoice_id, l.line_no, l.amount
),
invoice_sums as (
  select i.invoice_id, i.subtotal, coalesce(sum(s.amount), 0) as scheduled
  from invoices i
  left join revenue_schedule s on s.invoice_id = i.invoice_id
  group by i.invoice_id, i.subtotal
),
rolled as (
  select month, currency, opening, billed, recognized, closing,
         lag(closing) over (partition by currency order by month) as previous_closing
  from deferred_revenue
),
waterfall as (
  select currency, sum(amount) as amount from revenue_waterfall group by currency
),
invoiced as (
  select currency, sum(subtotal) as amount from invoices group by currency
)
select 'line schedule' as identity, invoice_id || ' #' || cast(line_no as varchar) as item,
       cast(amount as varchar) as expected, cast(scheduled as varchar) as actual
from line_sums where scheduled <> amount
union all
select 'invoice schedule', invoice_id, cast(subtotal as varchar), cast(scheduled as varchar)
from invoice_sums where scheduled <> subtotal
union all
select 'closing = opening + billed - recognized', cast(month as varchar) || ' ' || currency,
       cast(opening + billed - recognized as varchar), cast(closing as varchar)
from rolled where closing <> opening + billed - recognized
union all
select 'opening = previous closing', cast(month as varchar) || ' ' || currency,
       cast(previous_closing as varchar), cast(opening as varchar)
from rolled where previous_closing is not null and opening <> previous_closing
union all
select 'waterfall = invoiced before tax', coalesce(w.currency, i.currency),
       cast(i.amount as varchar), cast(w.amount as varchar)
from waterfall w full join invoiced i on i.currency = w.currency
where w.amount is null or i.amount is null or w.amount <> i.amount
";

/// Line types the generated lake must produce for the identities to mean something.
const LINE_TYPES: &[&str] =
    &["adjustment", "commitment", "discount", "recurring", "usage"];

#[test]
fn revenue_identities_hold_on_generated_lakes() {
    for seed in [3, 5] {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path().join("lake");
        let generated = billsheet(&[
            "generate",
            "--out",
            lake.to_str().unwrap(),
            "--customers",
            "150",
            "--events",
            "30000",
            "--months",
            "4",
            "--seed",
            &seed.to_string(),
        ]);
        assert!(generated.status.success(), "{generated:?}");

        // Usage is billed in arrears, so an as-of date well after the last month has
        // every line type, including adjustments for late events and commitments.
        let as_of = "2026-06-15";
        let types = sql_csv(
            &lake,
            as_of,
            "select distinct line_type from invoice_lines order by line_type",
        );
        let found: Vec<&str> = types.lines().skip(1).collect();
        assert_eq!(
            found, LINE_TYPES,
            "seed {seed}: line types of the generated lake"
        );

        let violations = sql_csv(&lake, as_of, VIOLATIONS);
        let rows: Vec<&str> = violations.lines().skip(1).collect();
        assert!(
            rows.is_empty(),
            "seed {seed}: {} identities fail:\n{}",
            rows.len(),
            rows.join("\n")
        );
    }
}
