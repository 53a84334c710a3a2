//! The optimized usage views against plain SQL. The built-in views take these shortcuts
//! for speed:
//! - only events delivered more than once are grouped by content and ranked;
//! - the latest quantity comes from the `latest_value` aggregate instead of an ordered
//!   `last_value`;
//! - only customers with overlapping contracts rank their candidate contracts;
//! - the rejects read the deliveries of events delivered once as they are.
//!
//! Here each of those views is written again the plain way (a ranking window over every
//! event, ordered aggregates, a rank over every candidate) and both are run by the real
//! binary on generated lakes that exercise every shortcut. Everything downstream (rating,
//! invoices, revenue) reads these views, so equal views give equal amounts to the cent.

mod ledger_support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use chrono::{Duration, NaiveDate, NaiveDateTime};

use ledger_support::{binary, Random};

const AS_OF: &str = "2026-03-20";

const ZONES: [&str; 5] = [
    "UTC",
    "America/St_Johns",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "America/New_York",
];

const PRICES: &str = "\
rate_card_id,charge_id,charge_type,meter,dimension,pricing_model,tier,up_to,unit_price,flat_fee,package_size,interval,timing,currency
RC_A,api,usage,api_calls,,graduated,1,100,0.01,,,month,arrears,USD
RC_A,api,usage,api_calls,,graduated,2,,0.005,,,month,arrears,USD
RC_A,storage,usage,storage_gb,,volume,1,,0.5,,,month,arrears,USD
RC_A,gauge,usage,gauge,,per_unit,1,,0.25,,,month,arrears,USD
RC_A,sms,usage,sms,,package,1,,1.5,,10,month,arrears,USD
RC_A,tokens_small,usage,tokens,small,per_unit,1,,0.001,,,month,arrears,USD
RC_A,tokens_other,usage,tokens,,per_unit,1,,0.004,,,month,arrears,USD
RC_B,api,usage,api_calls,,per_unit,1,,0.02,,,month,arrears,USD
RC_B,regions,usage,regions,,per_unit,1,,3,,,month,arrears,USD
RC_B,gauge,usage,gauge,,per_unit,1,,0.2,,,quarter,arrears,USD
RC_B,tokens,usage,tokens,,per_unit,1,,0.003,,,month,arrears,USD
";

const METERS: &str = "\
meter,aggregation
api_calls,sum
storage_gb,max
gauge,latest
sms,count
tokens,sum
regions,unique_count
";

const METER_NAMES: [&str; 7] = [
    "api_calls",
    "storage_gb",
    "gauge",
    "sms",
    "tokens",
    "regions",
    "not_priced",
];

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// Writes a lake of `customers` customers, and two unknown ones in the usage. The usage
/// has redeliveries, conflicting contents received at the same and at different times,
/// late arrivals, events sharing a timestamp, invalid rows, overlapping contracts, days
/// before any contract, and every meter aggregation.
fn write_lake(folder: &Path, seed: u64, customers: usize) {
    let mut random = Random::new(seed);
    std::fs::create_dir_all(folder).unwrap();
    let mut customer_rows = String::from("customer_id,name,currency,timezone\n");
    let mut contract_rows =
        String::from("contract_id,customer_id,rate_card_id,start_date,end_date\n");
    let first = day("2025-12-01");
    for index in 0..customers {
        let zone = *random.pick(&ZONES);
        writeln!(customer_rows, "C{index:03},Customer {index},USD,{zone}").unwrap();
        let start = first + Duration::days(random.range(0, 40));
        let end = random
            .chance(0.3)
            .then(|| start + Duration::days(random.range(20, 70)));
        let card = *random.pick(&["RC_A", "RC_B"]);
        let end_text = end.map(|d| d.to_string()).unwrap_or_default();
        writeln!(
            contract_rows,
            "K{index:03}a,C{index:03},{card},{start},{end_text}"
        )
        .unwrap();
        // A second contract for some customers: starting inside the first (overlapping),
        // or on the same day (the smaller contract_id wins the tie).
        if random.chance(0.4) {
            let second_start = if random.chance(0.3) {
                start
            } else {
                start + Duration::days(random.range(5, 50))
            };
            let card = *random.pick(&["RC_A", "RC_B"]);
            writeln!(
                contract_rows,
                "K{index:03}b,C{index:03},{card},{second_start},"
            )
            .unwrap();
        }
    }

    let mut usage =
        String::from("event_id,customer_id,meter,ts,quantity,dimension,received_at\n");
    let base: NaiveDateTime = day("2025-11-25").and_hms_opt(0, 0, 0).unwrap();
    let mut rows: Vec<String> = Vec::new();
    let mut previous: Option<(String, &str, NaiveDateTime)> = None;
    for event in 0..(customers * 60) {
        let mut customer = if random.chance(0.03) {
            format!("UNKNOWN{}", random.range(1, 3))
        } else {
            format!("C{:03}", random.range(0, customers as i64))
        };
        let mut meter = *random.pick(&METER_NAMES);
        let mut ts = base + Duration::minutes(random.range(0, 120 * 24 * 6) * 10);
        // Some events share the customer, meter and timestamp of the one before, so the
        // latest quantity is decided by event_id.
        if let Some((last_customer, last_meter, last_ts)) = previous.take() {
            if random.chance(0.1) {
                (customer, meter, ts) = (last_customer, last_meter, last_ts);
            }
        }
        previous = Some((customer.clone(), meter, ts));
        let quantity = random.range(1, 500);
        let dimension = match meter {
            "tokens" => *random.pick(&["small", "large", ""]),
            "regions" => *random.pick(&["eu", "us", "ap"]),
            _ => "",
        };
        let received = if random.chance(0.15) {
            (ts + Duration::hours(random.range(1, 24 * 20)))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        } else {
            String::new()
        };
        let ts_text = ts.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let row = format!(
            "E{event:05},{customer},{meter},{ts_text},{quantity},{dimension},{received}"
        );
        rows.push(row.clone());
        if random.chance(0.08) {
            // An identical redelivery.
            rows.push(row);
        }
        if random.chance(0.05) {
            // A conflicting content: another quantity, received at the same time as the
            // first content or later.
            let later = if random.chance(0.5) {
                received.clone()
            } else {
                (ts + Duration::days(random.range(1, 30)))
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string()
            };
            let other = quantity + random.range(1, 9);
            rows.push(format!(
                "E{event:05},{customer},{meter},{ts_text},{other},{dimension},{later}"
            ));
        }
        if random.chance(0.01) {
            rows.push(format!("E{event:05}x,{customer},{meter},{ts_text},lots,,"));
        }
    }
    // Deliveries arrive in no particular order.
    for i in (1..rows.len()).rev() {
        let j = random.range(0, i as i64 + 1) as usize;
        rows.swap(i, j);
    }
    for row in rows {
        usage.push_str(&row);
        usage.push('\n');
    }
    std::fs::write(folder.join("customers.csv"), customer_rows).unwrap();
    std::fs::write(folder.join("contracts.csv"), contract_rows).unwrap();
    std::fs::write(folder.join("prices.csv"), PRICES).unwrap();
    std::fs::write(folder.join("meters.csv"), METERS).unwrap();
    std::fs::write(folder.join("usage.csv"), usage).unwrap();
}

/// Runs one query with `billsheet sql` and returns the CSV rows after the header.
fn query(lake: &Path, sql: &str) -> Vec<String> {
    let output = Command::new(binary())
        .args(["sql", "--lake"])
        .arg(lake)
        .args(["--as-of", AS_OF, "--format", "csv", sql])
        .output()
        .expect("billsheet starts");
    assert!(
        output.status.success(),
        "billsheet sql failed on {sql}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    text.lines().skip(1).map(str::to_owned).collect()
}

fn number(lake: &Path, sql: &str) -> i64 {
    let rows = query(lake, sql);
    rows[0]
        .parse()
        .unwrap_or_else(|_| panic!("{sql} gave {rows:?}"))
}

/// Asserts that the view and the plain query hold the same rows, and returns the count.
fn assert_same_rows(lake: &Path, view: &str, plain: &str) -> i64 {
    let rows = number(lake, &format!("select count(*) from {view}"));
    let plain_rows = number(lake, &format!("select count(*) from ({plain})"));
    assert_eq!(rows, plain_rows, "{view}: row counts differ");
    for (left, right) in [
        (view.to_string(), format!("({plain})")),
        (format!("({plain})"), view.to_string()),
    ] {
        let sql = format!("select * from {left} except select * from {right} limit 5");
        let extra = query(lake, &sql);
        assert!(
            extra.is_empty(),
            "{view}: rows in {} but not in the other:\n{}",
            if left == view {
                "the view"
            } else {
                "plain SQL"
            },
            extra.join("\n")
        );
    }
    rows
}

/// The counted content of every event, ranked over all contents with a window.
const PLAIN_COUNTED: &str = "
  select event_id, customer_id, meter, ts, quantity, dimension, received_at, deliveries
  from (
    select c.*, row_number() over (
             partition by event_id
             order by received_at nulls first, customer_id, meter, ts, quantity, dimension
           ) as content_rank
    from (
      select event_id, customer_id, meter, ts, quantity, dimension, count(*) as deliveries,
             case when count(received_at) < count(*) then null else min(received_at) end
               as received_at
      from usage where invalid_reason is null
      group by event_id, customer_id, meter, ts, quantity, dimension
    ) c
  ) where content_rank = 1";

fn plain_daily() -> String {
    format!(
        "select e.customer_id, e.meter, e.dimension, e.local_day, e.known_day,
                count(*) as event_count, sum(e.deliveries) as deliveries,
                sum(e.quantity) as quantity_sum, max(e.quantity) as quantity_max,
                case when max(m.aggregation) = 'latest'
                     then last_value(e.quantity order by e.ts, e.event_id) end
                  as quantity_latest,
                max(e.ts) as latest_ts,
                case when max(m.aggregation) = 'latest'
                     then last_value(e.event_id order by e.ts, e.event_id) end
                  as latest_event_id
         from (
           select r.*, local_date(r.ts, c.timezone) as local_day,
                  local_date(coalesce(r.received_at, r.ts), c.timezone) as known_day
           from ({PLAIN_COUNTED}) r join customers c on c.customer_id = r.customer_id
         ) e
         left join meters m on m.meter = e.meter
         group by e.customer_id, e.meter, e.dimension, e.local_day, e.known_day"
    )
}

const PLAIN_MATCHES: &str = "
  select customer_id, meter, dimension, local_day, known_day, contract_id, charge_id,
         start_date, event_count, quantity_sum, quantity_max, quantity_latest, latest_ts,
         latest_event_id
  from (
    select d.customer_id, d.meter, d.dimension, d.local_day, d.known_day, u.contract_id,
           u.charge_id, u.start_date, d.event_count, d.quantity_sum, d.quantity_max,
           d.quantity_latest, d.latest_ts, d.latest_event_id,
           dense_rank() over (
             partition by d.customer_id, d.meter, d.dimension, d.local_day, d.known_day
             order by u.start_date desc, u.contract_id
           ) as contract_rank
    from usage_daily d
    join (
      select t.contract_id, t.customer_id, t.start_date, t.end_date, ch.charge_id,
             ch.meter, ch.dimension
      from contract_terms t join charges ch on ch.contract_id = t.contract_id
      where ch.charge_type = 'usage'
    ) u
      on u.customer_id = d.customer_id and u.meter = d.meter
     and d.local_day >= u.start_date and (u.end_date is null or d.local_day < u.end_date)
    left join (select distinct contract_id, meter, dimension from charges
               where charge_type = 'usage' and dimension is not null) x
      on x.contract_id = u.contract_id and x.meter = d.meter and x.dimension = d.dimension
    where d.known_day <= as_of_date()
      and (u.dimension = d.dimension or (u.dimension is null and x.contract_id is null))
  ) where contract_rank = 1";

fn plain_rejects() -> String {
    format!(
        "select event_id, invalid_reason as reason, customer_id, meter, ts, quantity,
                dimension, received_at, cast(1 as bigint) as deliveries
         from usage where invalid_reason is not null
         union all
         select event_id,
                'conflicting delivery of event ' || event_id
                  || ': differs from the delivery that counts' as reason,
                customer_id, meter, ts, quantity, dimension, received_at, deliveries
         from usage_conflicts
         union all
         select event_id,
                case when timezone is null then 'unknown customer ' || customer_id
                     else 'no contract of customer ' || customer_id || ' prices meter '
                          || meter || coalesce(' with dimension ' || dimension, '') || ' on '
                          || cast(local_day as varchar)
                end as reason,
                customer_id, meter, ts, quantity, dimension, received_at, deliveries
         from (
           select r.*, c.timezone, local_date(r.ts, c.timezone) as local_day,
                  local_date(coalesce(r.received_at, r.ts), c.timezone) as known_day
           from ({PLAIN_COUNTED}) r left join customers c on c.customer_id = r.customer_id
         ) e
         where timezone is null
            or exists (
              select 1 from usage_unmatched_days u
              where u.customer_id = e.customer_id and u.meter = e.meter
                and (u.dimension is not distinct from e.dimension)
                and u.local_day = e.local_day and u.known_day = e.known_day
            )"
    )
}

fn assert_views_match_plain_sql(seed: u64) {
    let folder = tempfile::tempdir().unwrap();
    let lake = folder.path().join("lake");
    write_lake(&lake, seed, 40);

    // The lake exercises each shortcut.
    let multi = number(
        &lake,
        "select count(distinct event_id) from usage_conflicts",
    );
    assert!(multi > 0, "no event with several contents");
    let overlapping = number(
        &lake,
        "select count(distinct a.customer_id) from contract_terms a join contract_terms b
           on a.customer_id = b.customer_id and a.contract_id < b.contract_id
          and (a.end_date is null or b.start_date < a.end_date)",
    );
    assert!(overlapping > 0, "no customer with overlapping contracts");
    let ties = number(
        &lake,
        "select count(*) from (select customer_id, meter, ts from usage
          where invalid_reason is null group by customer_id, meter, ts
          having count(distinct event_id) > 1)",
    );
    assert!(
        ties > 0,
        "no two events of a customer and meter share a timestamp"
    );

    let daily = assert_same_rows(&lake, "usage_daily", &plain_daily());
    let matches = assert_same_rows(&lake, "usage_matches", PLAIN_MATCHES);
    let rejects = assert_same_rows(&lake, "usage_rejects", &plain_rejects());
    assert!(
        daily > 100 && matches > 100,
        "daily {daily}, matches {matches}"
    );
    let reasons = number(
        &lake,
        "select count(distinct split_part(reason, ' ', 1)) from usage_rejects",
    );
    // invalid, conflicting, unknown and no contract.
    assert!(
        rejects > 0 && reasons == 4,
        "rejects {rejects}, reasons {reasons}"
    );
}

#[test]
fn optimized_usage_views_match_plain_sql_seed_1() {
    assert_views_match_plain_sql(1);
}

#[test]
fn optimized_usage_views_match_plain_sql_seed_2() {
    assert_views_match_plain_sql(2);
}
