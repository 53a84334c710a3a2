-- Changes after billing. A period is billed on its base date from what is known by the
-- end of that day. A fact that becomes known later (an item recorded late, usage received
-- late) makes the period bill again on the contract's next invoice due by the end of the
-- following calendar month, or else on an invoice of its own on the first day of that
-- month. Each billing of a period charges what it costs now minus what was billed before.

-- invoice_schedule: the days on which each contract's periods are first due, with the
-- local day from which each such invoice was known to come (null: always). A recurring
-- period is known from the first known item of its charge, a usage period from its first
-- known usage, a one-time period from its first known item. Recurring periods are
-- followed beyond the as-of date to the end of the month after next, as far as an
-- adjustment may wait for the next invoice.
create view invoice_schedule as
with subscribed as (
  select contract_id, charge_id,
         case when count(known_day) < count(*) then null else min(known_day) end
           as known_from
  from item_facts
  group by contract_id, charge_id
),
grid as (
  select t.contract_id, ch.timing, t.start_date, t.end_date, t.billing_anchor,
         t.grace_days, ch."interval", s.known_from,
         unnest(billing_periods(
           t.start_date,
           least(coalesce(t.end_date, cast(date_trunc('month', as_of_date())
                                           + interval '2 month' as date)),
                 cast(date_trunc('month', as_of_date()) + interval '2 month' as date)),
           t.billing_anchor, ch."interval")) as grid_start
  from subscribed s
  join contract_terms t on t.contract_id = s.contract_id
  join charges ch on ch.contract_id = s.contract_id and ch.charge_id = s.charge_id
  where ch.charge_type = 'recurring'
),
recurring as (
  select contract_id, timing, grace_days, known_from,
         greatest(grid_start, start_date) as period_start,
         least(billing_period_end(grid_start, billing_anchor, "interval"), end_date)
           as period_end
  from grid
)
select contract_id,
       case when timing = 'arrears' then add_days(period_end, grace_days)
            else period_start end as invoice_date,
       known_from
from recurring
where period_start < period_end
union all
select p.contract_id, p.base_date as invoice_date, min(f.known_day) as known_from
from charge_periods p
join usage_facts f
  on f.contract_id = p.contract_id and f.charge_id = p.charge_id
 and f.grid_start = p.grid_start
where p.line_type = 'usage'
group by p.contract_id, p.charge_id, p.period_start, p.base_date
union all
select p.contract_id, p.base_date as invoice_date,
       case when count(f.known_day) < count(*) then null else min(f.known_day) end
         as known_from
from charge_periods p
join item_facts f
  on f.contract_id = p.contract_id and f.charge_id = p.charge_id
 and f.active_from = p.period_start
where p.line_type = 'one_time'
group by p.contract_id, p.charge_id, p.period_start, p.base_date;

-- late_facts: the local days on which facts about already billed periods became known.
create view late_facts as
select distinct p.contract_id, p.charge_id, p.period_start, f.known_day
from charge_periods p
join item_facts f
  on f.contract_id = p.contract_id and f.charge_id = p.charge_id
 and f.known_day > p.base_date
 and f.active_from < p.period_end
 and (f.active_to is null or f.active_to > p.period_start)
where p.line_type = 'recurring'
union
select distinct p.contract_id, p.charge_id, p.period_start, f.known_day
from charge_periods p
join usage_facts f
  on f.contract_id = p.contract_id and f.charge_id = p.charge_id
 and f.grid_start = p.grid_start and f.known_day > p.base_date
where p.line_type = 'usage'
union
select distinct p.contract_id, p.charge_id, p.period_start, f.known_day
from charge_periods p
join item_facts f
  on f.contract_id = p.contract_id and f.charge_id = p.charge_id
 and f.active_from = p.period_start and f.known_day > p.base_date
where p.line_type = 'one_time';

-- adjustment_dates: the invoice day of a change known on known_day. It is the contract's
-- first invoice from that day to the end of its month that was known to come by its own
-- day. Failing that, it is the first invoice of the next month that was known to come by
-- the first day of that month. Failing that, the change gets an invoice of its own on that
-- first day. Each choice uses only what was known on the day it is made, so a run on any
-- later day makes the same choice.
create view adjustment_dates as
with changes as (
  select distinct contract_id, known_day,
         cast(date_trunc('month', known_day) + interval '1 month' as date) as next_month,
         cast(date_trunc('month', known_day) + interval '2 month' as date) as month_after_next
  from late_facts
),
this_month as (
  select c.contract_id, c.known_day, min(s.invoice_date) as invoice_date
  from changes c
  join invoice_schedule s
    on s.contract_id = c.contract_id and s.invoice_date >= c.known_day
   and s.invoice_date < c.next_month
   and (s.known_from is null or s.known_from <= s.invoice_date)
  group by c.contract_id, c.known_day
),
next_month as (
  select c.contract_id, c.known_day, min(s.invoice_date) as invoice_date
  from changes c
  join invoice_schedule s
    on s.contract_id = c.contract_id and s.invoice_date >= c.next_month
   and s.invoice_date < c.month_after_next
   and (s.known_from is null or s.known_from <= c.next_month)
  group by c.contract_id, c.known_day
)
select c.contract_id, c.known_day,
       coalesce(t.invoice_date, n.invoice_date, c.next_month) as adjustment_date
from changes c
left join this_month t on t.contract_id = c.contract_id and t.known_day = c.known_day
left join next_month n on n.contract_id = c.contract_id and n.known_day = c.known_day;

-- billing_points: each day on which a period bills: its base date and its adjustments.
create view billing_points as
select contract_id, charge_id, period_start, base_date as billing_date
from charge_periods
union
select l.contract_id, l.charge_id, l.period_start, a.adjustment_date as billing_date
from late_facts l
join adjustment_dates a on a.contract_id = l.contract_id and a.known_day = l.known_day;

-- recurring_segments: the pieces of constant quantity of each recurring period, from the
-- items known on each billing day.
create view recurring_known_items as
select b.contract_id, b.charge_id, b.period_start, b.billing_date, f.quantity,
       greatest(f.active_from, p.period_start) as seg_from,
       least(coalesce(f.active_to, p.period_end), p.period_end) as seg_to
from billing_points b
join charge_periods p
  on p.contract_id = b.contract_id and p.charge_id = b.charge_id
 and p.period_start = b.period_start and p.line_type = 'recurring'
join item_facts f
  on f.contract_id = b.contract_id and f.charge_id = b.charge_id
 and (f.known_day is null or f.known_day <= b.billing_date)
 and f.active_from < p.period_end
 and (f.active_to is null or f.active_to > p.period_start);

create view recurring_segments as
with bounds as (
  select contract_id, charge_id, period_start, billing_date, seg_from as day
  from recurring_known_items
  union
  select contract_id, charge_id, period_start, billing_date, seg_to as day
  from recurring_known_items
),
pieces as (
  select contract_id, charge_id, period_start, billing_date, day as seg_start,
         lead(day) over (
           partition by contract_id, charge_id, period_start, billing_date order by day
         ) as seg_end
  from bounds
)
select s.contract_id, s.charge_id, s.period_start, s.billing_date, s.seg_start, s.seg_end,
       sum(k.quantity) as quantity
from pieces s
join recurring_known_items k
  on k.contract_id = s.contract_id and k.charge_id = s.charge_id
 and k.period_start = s.period_start and k.billing_date = s.billing_date
 and k.seg_from <= s.seg_start and k.seg_to >= s.seg_end
where s.seg_end is not null
group by s.contract_id, s.charge_id, s.period_start, s.billing_date, s.seg_start, s.seg_end;

-- period_costs: the exact cost of each period as known on each billing day, before
-- conversion and rounding. A recurring cost is the sum over segments of the segment's
-- price × its days; `divisor` (the grid period's days) divides it once, at rounding.
create view recurring_costs as
select s.contract_id, s.charge_id, s.period_start, s.billing_date,
       sum(rate_tiers(p.pricing_model, s.quantity, p.up_tos, p.unit_prices, p.flat_fees,
                      p.package_size) * days_between(s.seg_start, s.seg_end)) as cost,
       last_value(s.quantity order by s.seg_start) as quantity
from recurring_segments s
join charge_periods p
  on p.contract_id = s.contract_id and p.charge_id = s.charge_id
 and p.period_start = s.period_start and p.line_type = 'recurring'
group by s.contract_id, s.charge_id, s.period_start, s.billing_date;

-- usage_quantities: each usage period's quantity by its meter's aggregation, as known
-- on each billing day and on the as-of day (for rated_usage).
create view usage_quantity_points as
select b.contract_id, b.charge_id, b.period_start, b.billing_date
from billing_points b
join charge_periods p
  on p.contract_id = b.contract_id and p.charge_id = b.charge_id
 and p.period_start = b.period_start and p.line_type = 'usage'
union
select p.contract_id, p.charge_id, p.period_start, as_of_date() as billing_date
from charge_periods p
where p.line_type = 'usage';

-- usage_quantities: each usage period's quantity by its meter's aggregation, as known on
-- each billing date. sum, count and max finish the daily sums with plain aggregates.
-- unique_count needs a distinct count and latest the latest row (by ts, then event_id), so
-- they run in aggregations of their own over their meters' rows only.
create view usage_quantities as
with facts as (
  select b.contract_id, b.charge_id, b.period_start, b.billing_date,
         coalesce(m.aggregation, 'sum') as aggregation, f.event_count, f.quantity_sum,
         f.quantity_max, f.dimension, f.quantity_latest, f.latest_ts,
         f.latest_event_id
  from usage_quantity_points b
  join usage_facts f
    on f.contract_id = b.contract_id and f.charge_id = b.charge_id
   and f.period_start = b.period_start and f.known_day <= b.billing_date
  left join meters m on m.meter = f.meter
)
select contract_id, charge_id, period_start, billing_date,
       case aggregation
         when 'count' then cast(sum(event_count) as decimal(38, 9))
         when 'max' then max(quantity_max)
         else sum(quantity_sum)
       end as quantity
from facts
where aggregation not in ('unique_count', 'latest')
group by contract_id, charge_id, period_start, billing_date, aggregation
union all
select contract_id, charge_id, period_start, billing_date,
       cast(count(distinct dimension) as decimal(38, 9)) as quantity
from facts
where aggregation = 'unique_count'
group by contract_id, charge_id, period_start, billing_date
union all
select contract_id, charge_id, period_start, billing_date,
       latest_value(quantity_latest, latest_ts, latest_event_id) as quantity
from facts
where aggregation = 'latest'
group by contract_id, charge_id, period_start, billing_date;

-- one_time_quantities: each one-time period's quantity from the rows known on each
-- billing day.
create view one_time_quantities as
select b.contract_id, b.charge_id, b.period_start, b.billing_date,
       sum(f.quantity) as quantity
from billing_points b
join charge_periods p
  on p.contract_id = b.contract_id and p.charge_id = b.charge_id
 and p.period_start = b.period_start and p.line_type = 'one_time'
join item_facts f
  on f.contract_id = b.contract_id and f.charge_id = b.charge_id
 and f.active_from = b.period_start
 and (f.known_day is null or f.known_day <= b.billing_date)
group by b.contract_id, b.charge_id, b.period_start, b.billing_date;

create view period_costs as
select contract_id, charge_id, period_start, billing_date, cost, quantity
from recurring_costs
union all
select q.contract_id, q.charge_id, q.period_start, q.billing_date,
       rate_tiers(p.pricing_model, q.quantity, p.up_tos, p.unit_prices, p.flat_fees,
                  p.package_size) as cost,
       q.quantity
from usage_quantities q
join charge_periods p
  on p.contract_id = q.contract_id and p.charge_id = q.charge_id
 and p.period_start = q.period_start and p.line_type = 'usage'
union all
select q.contract_id, q.charge_id, q.period_start, q.billing_date,
       rate_tiers(p.pricing_model, q.quantity, p.up_tos, p.unit_prices, p.flat_fees,
                  p.package_size) as cost,
       q.quantity
from one_time_quantities q
join charge_periods p
  on p.contract_id = q.contract_id and p.charge_id = q.charge_id
 and p.period_start = q.period_start and p.line_type = 'one_time';

-- period_amounts: what each period costs in the invoice currency on each billing day,
-- rounded as its line is. The billing of that day charges the difference from the
-- previous billing.
create view period_amounts as
with amounts as (
  select b.contract_id, b.charge_id, b.period_start, b.billing_date, p.line_type,
         p.period_end, p.grid_start, p.grid_end, p.base_date, p.customer_id,
         p.invoice_currency, p.description, p.meter,
         coalesce(c.quantity, 0) as quantity,
         case when p.line_type = 'recurring'
              then cast(prorate(1, days_between(p.period_start, p.period_end), p.grid_days)
                        as decimal(38, 12))
         end as proration,
         money_amount(coalesce(c.cost, 0),
                      case when p.line_type = 'recurring' then p.grid_days else 1 end,
                      x.fx_multiplier, x.fx_divisor, p.invoice_currency) as amount,
         p.pricing_model is null as price_missing,
         x.fx_multiplier is null as rate_missing
  from billing_points b
  join charge_periods p
    on p.contract_id = b.contract_id and p.charge_id = b.charge_id
   and p.period_start = b.period_start
  left join period_costs c
    on c.contract_id = b.contract_id and c.charge_id = b.charge_id
   and c.period_start = b.period_start and c.billing_date = b.billing_date
  left join period_fx x
    on x.contract_id = b.contract_id and x.charge_id = b.charge_id
   and x.period_start = b.period_start
)
select a.*,
       a.amount - coalesce(lag(a.amount) over w, 0) as billed_amount,
       a.quantity - coalesce(lag(a.quantity) over w, 0) as billed_quantity,
       case when a.billing_date = a.base_date then a.line_type else 'adjustment' end
         as billed_line_type
from amounts a
window w as (partition by a.contract_id, a.charge_id, a.period_start order by a.billing_date);
