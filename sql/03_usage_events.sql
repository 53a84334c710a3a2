-- usage_contents: each distinct content delivered under an event_id, with its number of
-- deliveries and when it was first received (null: on time).
create view usage_contents as
select event_id, customer_id, meter, ts, quantity, dimension,
       count(*) as deliveries,
       case when count(received_at) < count(*) then null else min(received_at) end
         as received_at
from usage
where invalid_reason is null
group by event_id, customer_id, meter, ts, quantity, dimension;

-- usage_ranked: the contents of an event in the order they count. The first received
-- counts; contents received at the same time are ordered by their values.
-- NOTE: the data contract breaks such ties by file name and row order, which the scan
-- does not expose; ordering by value keeps the choice deterministic.
create view usage_ranked as
select c.*,
       row_number() over (
         partition by event_id
         order by received_at nulls first, customer_id, meter, ts, quantity, dimension
       ) as content_rank
from usage_contents c;

-- usage_events: one row per counted event, placed on its customer's local day and on
-- the local day billing learned of it.
create view usage_events as
select r.event_id, r.customer_id, r.meter, r.ts, r.quantity, r.dimension, r.received_at,
       r.deliveries,
       local_date(r.ts, c.timezone) as local_day,
       local_date(coalesce(r.received_at, r.ts), c.timezone) as known_day
from usage_ranked r
join customers c on c.customer_id = r.customer_id
where r.content_rank = 1;

-- usage_daily: counted events summed per customer, meter, dimension and local day, for
-- what is known by the end of the as-of day. Every meter aggregation can be finished
-- from these sums.
create view usage_daily as
select e.customer_id, e.meter, e.dimension, e.local_day, e.known_day,
       count(*) as event_count,
       sum(e.quantity) as quantity_sum,
       max(e.quantity) as quantity_max,
       last_value(e.quantity order by e.ts, e.event_id) as quantity_latest,
       max(e.ts) as latest_ts
from usage_events e
cross join billing_parameters r
where e.known_day <= r.as_of
group by e.customer_id, e.meter, e.dimension, e.local_day, e.known_day;

-- usage_matches: the contract and charges that take each daily sum: the customer's
-- contract in effect on the local day whose rate card prices the meter and dimension
-- (latest start_date, then smallest contract_id). A charge with a dimension takes that
-- dimension's events; a charge without one takes the rest of the meter's events.
create view usage_matches as
with targets as (
  select t.contract_id, t.customer_id, t.start_date, t.end_date, ch.charge_id, ch.meter,
         ch.dimension
  from contract_terms t
  join charges ch on ch.contract_id = t.contract_id
  where ch.charge_type = 'usage'
),
dimension_charges as (
  select distinct contract_id, meter, dimension from targets where dimension is not null
),
candidates as (
  select d.customer_id, d.meter, d.dimension, d.local_day, d.known_day, u.contract_id,
         u.charge_id, u.start_date
  from usage_daily d
  join targets u
    on u.customer_id = d.customer_id and u.meter = d.meter
   and d.local_day >= u.start_date and (u.end_date is null or d.local_day < u.end_date)
  left join dimension_charges x
    on x.contract_id = u.contract_id and x.meter = d.meter and x.dimension = d.dimension
  where u.dimension = d.dimension or (u.dimension is null and x.contract_id is null)
)
select *
from (
  select c.*,
         rank() over (
           partition by customer_id, meter, dimension, local_day, known_day
           order by start_date desc, contract_id
         ) as contract_rank
  from candidates c
)
where contract_rank = 1;

-- usage_facts: daily sums placed on their contract, charge and billing period.
create view usage_facts as
select m.contract_id, m.charge_id, d.customer_id, d.meter, d.dimension, d.local_day,
       d.known_day, d.event_count, d.quantity_sum, d.quantity_max, d.quantity_latest, d.latest_ts,
       billing_period_start(d.local_day, t.billing_anchor, ch."interval") as grid_start,
       billing_period_end(d.local_day, t.billing_anchor, ch."interval") as grid_end,
       greatest(billing_period_start(d.local_day, t.billing_anchor, ch."interval"),
                t.start_date) as period_start
from usage_daily d
join usage_matches m
  on m.customer_id = d.customer_id and m.meter = d.meter
 and (m.dimension is not distinct from d.dimension)
 and m.local_day = d.local_day and m.known_day = d.known_day
join contract_terms t on t.contract_id = m.contract_id
join charges ch on ch.contract_id = m.contract_id and ch.charge_id = m.charge_id;
