-- Deduplication. An event_id may be delivered several times. Identical deliveries count
-- once; when the contents differ, the first received counts and contents received at the
-- same time are ordered by their values. Most events are delivered once: an aggregation
-- on event_id alone finds the few delivered more than once, and only their deliveries
-- are grouped by content and ranked. Every other delivery is an event by itself.
-- NOTE: the data contract breaks ties between contents received at the same time by file
-- name and row order. The scan does not expose them, so ordering by value keeps the choice
-- deterministic.

-- usage_contents: each distinct valid content delivered under an event_id, with its
-- number of deliveries and when it was first received (null: a delivery was on time).
create view usage_contents as
select event_id, customer_id, meter, ts, quantity, dimension,
       count(*) as deliveries,
       case when count(received_at) < count(*) then null else min(received_at) end
         as received_at
from usage
where invalid_reason is null
group by event_id, customer_id, meter, ts, quantity, dimension;

-- usage_repeated_events: the event_ids with more than one valid delivery, identical or
-- not.
create view usage_repeated_events as
select event_id from usage where invalid_reason is null group by event_id having count(*) > 1;

-- usage_ranked_contents: the contents of the events delivered more than once, ranked in
-- the order they count. The filter on event_id comes before the aggregation, so only
-- those events' deliveries are grouped.
create view usage_ranked_contents as
select c.*,
       count(*) over (partition by event_id) as contents,
       row_number() over (
         partition by event_id
         order by received_at nulls first, customer_id, meter, ts, quantity, dimension
       ) as content_rank
from (
  select event_id, customer_id, meter, ts, quantity, dimension,
         count(*) as deliveries,
         case when count(received_at) < count(*) then null else min(received_at) end
           as received_at
  from usage
  where invalid_reason is null
    and event_id in (select event_id from usage_repeated_events)
  group by event_id, customer_id, meter, ts, quantity, dimension
) c;

-- usage_single_deliveries: the valid deliveries of events delivered once, each an event
-- that counts as it is.
create view usage_single_deliveries as
select u.event_id, u.customer_id, u.meter, u.ts, u.quantity, u.dimension, u.received_at
from usage u
where u.invalid_reason is null
  and not exists (select 1 from usage_repeated_events r where r.event_id = u.event_id);

-- usage_counted: per event_id, the content that counts and how many distinct contents
-- were delivered.
create view usage_counted as
select event_id, cast(1 as bigint) as contents, customer_id, meter, ts, quantity,
       dimension, received_at, cast(1 as bigint) as deliveries
from usage_single_deliveries
union all
select event_id, contents, customer_id, meter, ts, quantity, dimension, received_at,
       deliveries
from usage_ranked_contents
where content_rank = 1;

-- usage_conflicts: the contents of an event other than the one that counts.
create view usage_conflicts as
select event_id, customer_id, meter, ts, quantity, dimension, deliveries, received_at
from usage_ranked_contents
where content_rank > 1;

-- usage_events: one row per counted event, placed on its customer's local day and on
-- the local day billing learned of it.
create view usage_events as
select r.event_id, r.customer_id, r.meter, r.ts, r.quantity, r.dimension, r.received_at,
       r.deliveries,
       local_date(r.ts, c.timezone) as local_day,
       -- Written so that local_date(r.ts, ...) is one common expression, computed once.
       coalesce(local_date(r.received_at, c.timezone), local_date(r.ts, c.timezone))
         as known_day
from usage_counted r
join customers c on c.customer_id = r.customer_id;

-- usage_daily: counted events of known customers summed per customer, meter, dimension,
-- local day and the local day they became known, including days known after the as-of
-- date (consumers filter on known_day). Every meter aggregation can be finished from these
-- sums, and `deliveries` lets the usage accounting count without another pass over usage.
-- The latest event (by ts, then event_id) is only looked for on `latest` meters. On other
-- meters quantity_latest and latest_event_id are null.
create view usage_daily as
select e.customer_id, e.meter, e.dimension, e.local_day, e.known_day,
       count(*) as event_count,
       sum(e.deliveries) as deliveries,
       sum(e.quantity) as quantity_sum,
       max(e.quantity) as quantity_max,
       latest_value(e.quantity, e.ts, e.event_id)
         filter (where m.aggregation = 'latest') as quantity_latest,
       max(e.ts) as latest_ts,
       latest_value(e.event_id, e.ts, e.event_id)
         filter (where m.aggregation = 'latest') as latest_event_id
from usage_events e
left join meters m on m.meter = e.meter
group by e.customer_id, e.meter, e.dimension, e.local_day, e.known_day;

-- usage_matches: each daily sum with the contract and charges that take it: the customer's
-- contract in effect on the local day whose rate card prices the meter and dimension
-- (latest start_date, then smallest contract_id). A charge with a dimension takes that
-- dimension's events; a charge without one takes the rest of the meter's events.
create view usage_matches as
with overlapping as (
  -- Customers with two contracts in effect on a common day. Only their daily sums can
  -- have candidates from several contracts and go through the ranking; the others take
  -- their one contract's charges directly.
  select distinct a.customer_id
  from contract_terms a
  join contract_terms b
    on b.customer_id = a.customer_id and b.contract_id > a.contract_id
   and (a.end_date is null or b.start_date < a.end_date)
   and (b.end_date is null or a.start_date < b.end_date)
),
targets as (
  select t.contract_id, t.customer_id, t.start_date, t.end_date, ch.charge_id, ch.meter,
         ch.dimension, o.customer_id is not null as ranked
  from contract_terms t
  join charges ch on ch.contract_id = t.contract_id
  left join overlapping o on o.customer_id = t.customer_id
  where ch.charge_type = 'usage'
),
dimension_charges as (
  select distinct contract_id, meter, dimension from targets where dimension is not null
),
candidates as (
  select d.customer_id, d.meter, d.dimension, d.local_day, d.known_day, u.contract_id,
         u.charge_id, u.start_date, d.event_count, d.quantity_sum, d.quantity_max,
         d.quantity_latest, d.latest_ts, d.latest_event_id, u.ranked
  from usage_daily d
  join targets u
    on u.customer_id = d.customer_id and u.meter = d.meter
   and d.local_day >= u.start_date and (u.end_date is null or d.local_day < u.end_date)
  left join dimension_charges x
    on x.contract_id = u.contract_id and x.meter = d.meter and x.dimension = d.dimension
  where d.known_day <= as_of_date()
    and (u.dimension = d.dimension or (u.dimension is null and x.contract_id is null))
),
ranked_candidates as (
  select * from candidates where ranked
),
-- The ranking runs as two aggregations: the latest start_date per daily sum, then the
-- smallest contract_id among the contracts with it. The winning contract keeps all its
-- candidate charges.
best_start as (
  select customer_id, meter, dimension, local_day, known_day, max(start_date) as start_date
  from ranked_candidates
  group by customer_id, meter, dimension, local_day, known_day
),
winners as (
  select c.customer_id, c.meter, c.dimension, c.local_day, c.known_day,
         min(c.contract_id) as contract_id
  from ranked_candidates c
  join best_start b
    on b.customer_id = c.customer_id and b.meter = c.meter
   and (b.dimension is not distinct from c.dimension)
   and b.local_day = c.local_day and b.known_day = c.known_day
   and b.start_date = c.start_date
  group by c.customer_id, c.meter, c.dimension, c.local_day, c.known_day
)
select customer_id, meter, dimension, local_day, known_day, contract_id, charge_id,
       start_date, event_count, quantity_sum, quantity_max, quantity_latest, latest_ts,
       latest_event_id
from candidates
where not ranked
union all
select c.customer_id, c.meter, c.dimension, c.local_day, c.known_day, c.contract_id,
       c.charge_id, c.start_date, c.event_count, c.quantity_sum, c.quantity_max,
       c.quantity_latest, c.latest_ts, c.latest_event_id
from ranked_candidates c
join winners w
  on w.customer_id = c.customer_id and w.meter = c.meter
 and (w.dimension is not distinct from c.dimension)
 and w.local_day = c.local_day and w.known_day = c.known_day
 and w.contract_id = c.contract_id;

-- usage_unmatched_days: daily sums known by the as-of day that no contract takes.
create view usage_unmatched_days as
select d.customer_id, d.meter, d.dimension, d.local_day, d.known_day
from usage_daily d
where d.known_day <= as_of_date()
  and not exists (
    select 1 from usage_matches m
    where m.customer_id = d.customer_id and m.meter = d.meter
      and (m.dimension is not distinct from d.dimension) and m.local_day = d.local_day
      and m.known_day = d.known_day
  );

-- usage_facts: daily sums placed on their contract, charge and billing period.
create view usage_facts as
select m.contract_id, m.charge_id, m.customer_id, m.meter, m.dimension, m.local_day,
       m.known_day, m.event_count, m.quantity_sum, m.quantity_max, m.quantity_latest,
       m.latest_ts, m.latest_event_id,
       billing_period_start(m.local_day, t.billing_anchor, ch."interval") as grid_start,
       billing_period_end(m.local_day, t.billing_anchor, ch."interval") as grid_end,
       greatest(billing_period_start(m.local_day, t.billing_anchor, ch."interval"),
                t.start_date) as period_start
from usage_matches m
join contract_terms t on t.contract_id = m.contract_id
join charges ch on ch.contract_id = m.contract_id and ch.charge_id = m.charge_id;
