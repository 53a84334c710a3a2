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
-- Two passes over the deliveries: one over those that stand alone (invalid, or of an event
-- delivered once), one over the ranked contents of events delivered more than once.
create view usage_rejects as
with contents as (
  select u.event_id, u.invalid_reason, u.customer_id, u.meter, u.ts, u.quantity,
         u.dimension, u.received_at, cast(1 as bigint) as deliveries,
         cast(1 as bigint) as content_rank
  from usage u
  where u.invalid_reason is not null
     or not exists (select 1 from usage_repeated_events r where r.event_id = u.event_id)
  union all
  select event_id, cast(null as varchar) as invalid_reason, customer_id, meter, ts, quantity,
         dimension, received_at, deliveries, content_rank
  from usage_ranked_contents
),
placed as (
  select c.*, k.timezone, local_date(c.ts, k.timezone) as local_day,
         coalesce(local_date(c.received_at, k.timezone), local_date(c.ts, k.timezone))
           as known_day
  from contents c
  left join customers k on k.customer_id = c.customer_id
)
select event_id,
       case when invalid_reason is not null then invalid_reason
            when content_rank > 1
              then 'conflicting delivery of event ' || event_id
                   || ': differs from the delivery that counts'
            when timezone is null then 'unknown customer ' || customer_id
            else 'no contract of customer ' || customer_id || ' prices meter ' || meter
                 || coalesce(' with dimension ' || dimension, '') || ' on '
                 || cast(local_day as varchar)
       end as reason,
       customer_id, meter, ts, quantity, dimension, received_at, deliveries
from placed e
where invalid_reason is not null
   or content_rank > 1
   or timezone is null
   or exists (
     select 1 from usage_unmatched_days u
     where u.customer_id = e.customer_id and u.meter = e.meter
       and (u.dimension is not distinct from e.dimension) and u.local_day = e.local_day
       and u.known_day = e.known_day
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
-- One pass over the rejects. They are kept on disk because they grow with the usage.
rejects as (
  select count(*) filter (where reason like 'no contract %') as no_contract_events,
         coalesce(sum(deliveries) filter (where reason like 'no contract %'), 0)
           as no_contract_deliveries,
         coalesce(sum(deliveries), 0) as deliveries
  from usage_rejects
),
-- Counted events of known customers, from their daily sums. Events of unknown customers
-- are counted in usage_rejects.
counted as (
  select coalesce(sum(event_count), 0) as events, coalesce(sum(deliveries), 0) as deliveries
  from usage_daily
)
select (select count(*) from usage) as deliveries,
       (select coalesce(sum(events), 0) from billed) as billed,
       c.events - r.no_contract_events - (select coalesce(sum(events), 0) from billed)
         as pending,
       (c.deliveries - c.events) - (r.no_contract_deliveries - r.no_contract_events)
         as redelivered,
       r.deliveries as rejected
from counted c cross join rejects r;
