-- rated_usage: each usage period's quantity and amount as known on the as-of day, in the
-- invoice currency, including periods still open.
create view rated_usage as
select p.contract_id, p.charge_id, p.meter, p.period_start, p.period_end, q.quantity,
       money_amount(rate_tiers(p.pricing_model, q.quantity, p.up_tos, p.unit_prices,
                               p.flat_fees, p.package_size),
                    1, x.fx_multiplier, x.fx_divisor, p.invoice_currency) as amount,
       p.invoice_currency as currency
from usage_quantities q
join charge_periods p
  on p.contract_id = q.contract_id and p.charge_id = q.charge_id
 and p.period_start = q.period_start and p.line_type = 'usage'
left join period_fx x
  on x.contract_id = q.contract_id and x.charge_id = q.charge_id
 and x.period_start = q.period_start
where q.billing_date = as_of_date();

-- usage_rejects: every usage delivery that is not billed, with the reason: values that do
-- not fit, a conflicting redelivery, an unknown customer or no contract pricing the meter.
-- One row per rejected content of an event; `deliveries` counts its identical copies.
create view usage_rejects as
select event_id, invalid_reason as reason, customer_id, meter, ts, quantity, dimension,
       received_at, cast(1 as bigint) as deliveries
from usage
where invalid_reason is not null
union all
select event_id,
       'conflicting delivery of event ' || event_id
         || ': differs from the delivery that counts' as reason,
       customer_id, meter, ts, quantity, dimension, received_at, deliveries
from usage_conflicts
union all
select r.event_id, 'unknown customer ' || r.customer_id as reason, r.customer_id, r.meter,
       r.ts, r.quantity, r.dimension, r.received_at, r.deliveries
from usage_counted r
where not exists (select 1 from customers c where c.customer_id = r.customer_id)
union all
select e.event_id,
       'no contract of customer ' || e.customer_id || ' prices meter ' || e.meter
         || coalesce(' with dimension ' || e.dimension, '') || ' on '
         || cast(e.local_day as varchar) as reason,
       e.customer_id, e.meter, e.ts, e.quantity, e.dimension, e.received_at, e.deliveries
from usage_events e
where e.known_day <= as_of_date()
  and not exists (
    select 1 from usage_matches m
    where m.customer_id = e.customer_id and m.meter = e.meter
      and (m.dimension is not distinct from e.dimension) and m.local_day = e.local_day
      and m.known_day = e.known_day
  );

-- usage_accounting: where every delivery read went. billed + pending + redelivered +
-- rejected equals deliveries.
create view usage_accounting as
with billed as (
  select f.customer_id, f.meter, f.dimension, f.local_day, f.known_day,
         max(f.event_count) as events
  from usage_facts f
  join billing_points b
    on b.contract_id = f.contract_id and b.charge_id = f.charge_id
   and b.period_start = f.period_start
   and b.billing_date >= f.known_day and b.billing_date <= as_of_date()
  group by f.customer_id, f.meter, f.dimension, f.local_day, f.known_day
),
no_contract as (
  select count(*) as events, coalesce(sum(deliveries), 0) as deliveries
  from usage_rejects
  where reason like 'no contract %'
),
counted as (
  select count(*) as events, coalesce(sum(deliveries), 0) as deliveries from usage_events
)
select (select count(*) from usage) as deliveries,
       (select coalesce(sum(events), 0) from billed) as billed,
       c.events - n.events - (select coalesce(sum(events), 0) from billed) as pending,
       (c.deliveries - c.events) - (n.deliveries - n.events) as redelivered,
       (select coalesce(sum(deliveries), 0) from usage_rejects) as rejected
from counted c cross join no_contract n;
