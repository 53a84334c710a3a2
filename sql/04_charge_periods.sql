-- charge_periods: every period for which a charge may bill, with the day its first
-- invoice is due (base_date) and the price version in effect on its first day of service.
--   recurring: the grid of the charge's interval from the contract's start up to the
--     as-of date, cut by the contract's start and end; due on the period's first day
--     (advance) or grace_days after its end (arrears).
--   usage: every period with usage; due grace_days after the period ends.
--   one_time: the day of the item; due that day, or the day its first row became known
--     if later. A row of the same charge and day that becomes known after that is a late
--     fact, billed as an adjustment.
create view recurring_periods as
with subscribed as (
  select distinct contract_id, charge_id from item_facts
),
grid as (
  select t.contract_id, s.charge_id, ch."interval", ch.timing, t.start_date, t.end_date,
         t.billing_anchor, t.grace_days,
         unnest(billing_periods(t.start_date, t.horizon, t.billing_anchor, ch."interval"))
           as grid_start
  from subscribed s
  join contract_terms t on t.contract_id = s.contract_id
  join charges ch on ch.contract_id = s.contract_id and ch.charge_id = s.charge_id
  where ch.charge_type = 'recurring'
),
periods as (
  select contract_id, charge_id, timing, grace_days, grid_start,
         billing_period_end(grid_start, billing_anchor, "interval") as grid_end,
         greatest(grid_start, start_date) as period_start,
         least(billing_period_end(grid_start, billing_anchor, "interval"), end_date)
           as period_end
  from grid
)
select contract_id, charge_id, 'recurring' as line_type, grid_start, grid_end,
       period_start, period_end,
       case when timing = 'arrears' then add_days(period_end, grace_days)
            else period_start end as base_date
from periods;

create view usage_periods as
select distinct f.contract_id, f.charge_id, 'usage' as line_type, f.grid_start, f.grid_end,
       greatest(f.grid_start, t.start_date) as period_start,
       least(f.grid_end, t.end_date) as period_end,
       add_days(least(f.grid_end, t.end_date), t.grace_days) as base_date
from usage_facts f
join contract_terms t on t.contract_id = f.contract_id;

create view one_time_periods as
select i.contract_id, i.charge_id, 'one_time' as line_type,
       i.active_from as grid_start, add_days(i.active_from, 1) as grid_end,
       i.active_from as period_start, add_days(i.active_from, 1) as period_end,
       case when count(i.known_day) < count(*) then i.active_from
            else greatest(i.active_from, min(i.known_day)) end as base_date
from item_facts i
join charges ch on ch.contract_id = i.contract_id and ch.charge_id = i.charge_id
where ch.charge_type = 'one_time'
group by i.contract_id, i.charge_id, i.active_from;

create view charge_periods as
with all_periods as (
  select contract_id, charge_id, line_type, grid_start, grid_end, period_start, period_end,
         base_date
  from recurring_periods
  union all
  select contract_id, charge_id, line_type, grid_start, grid_end, period_start, period_end,
         base_date
  from usage_periods
  union all
  select contract_id, charge_id, line_type, grid_start, grid_end, period_start, period_end,
         base_date
  from one_time_periods
)
select p.*, t.customer_id, t.invoice_currency,
       pb.pricing_model, pb.up_tos, pb.unit_prices, pb.flat_fees, pb.package_size,
       pb.currency as price_currency, pb.description, pb.meter,
       days_between(p.grid_start, p.grid_end) as grid_days
from all_periods p
join contract_terms t on t.contract_id = p.contract_id
left join price_book pb
  on pb.contract_id = p.contract_id and pb.charge_id = p.charge_id
 and (pb.effective_from is null or pb.effective_from <= p.period_start)
 and (pb.effective_to is null or pb.effective_to > p.period_start)
where p.period_start < p.period_end;

-- fx_quotes: every listed rate, plus the inverse of a pair whose reverse is not listed.
-- An inverse rate is applied as a divisor, so no digits are lost to 1 / rate.
create view fx_quotes as
select date, from_currency, to_currency, rate as multiplier,
       cast(1 as decimal(38, 12)) as divisor
from fx_rates
union all
select r.date, r.to_currency as from_currency, r.from_currency as to_currency,
       cast(1 as decimal(38, 12)) as multiplier, r.rate as divisor
from fx_rates r
where not exists (
  select 1 from fx_rates d
  where d.from_currency = r.to_currency and d.to_currency = r.from_currency
);

-- period_fx: the conversion of each period's prices into the invoice currency, at the
-- latest rate on or before the period's first invoice. Null when no rate is listed.
create view period_fx as
with needed as (
  select distinct contract_id, charge_id, period_start, price_currency, invoice_currency,
         base_date
  from charge_periods
),
latest as (
  select n.contract_id, n.charge_id, n.period_start, max(q.date) as rate_date
  from needed n
  join fx_quotes q
    on q.from_currency = n.price_currency and q.to_currency = n.invoice_currency
   and q.date <= n.base_date
  where n.price_currency <> n.invoice_currency
  group by n.contract_id, n.charge_id, n.period_start
)
select n.contract_id, n.charge_id, n.period_start, n.base_date,
       case when n.price_currency = n.invoice_currency then cast(1 as decimal(38, 12))
            else q.multiplier end as fx_multiplier,
       case when n.price_currency = n.invoice_currency then cast(1 as decimal(38, 12))
            else q.divisor end as fx_divisor
from needed n
left join latest l
  on l.contract_id = n.contract_id and l.charge_id = n.charge_id
 and l.period_start = n.period_start
left join fx_quotes q
  on q.from_currency = n.price_currency and q.to_currency = n.invoice_currency
 and q.date = l.rate_date;
