-- SaaS metrics in the reporting currency (the function reporting_currency()), each
-- month converted at the latest rate on or before the month's last day.
--   mrr: recurring charges active on the month's last day, net of discount and normalized
--     to one month (a yearly fee counts 1/12), plus usage revenue recognized in the month.
--   mrr_movements: new, reactivation, expansion, contraction and churn per customer.
--   nrr: monthly and trailing-twelve-month net and gross revenue retention.
--   cohorts: customers by the month of their first MRR, followed month by month.
-- Metrics cover the months that ended before the as-of date. The month of the as-of date
-- is left out, even on its last day, because its usage is invoiced in arrears on the next
-- day at the earliest, so it would show every usage customer as churned.

create view metric_months as
select c.month_start as month, add_days(c.month_end, -1) as last_day
from calendar_months c
where c.month_start >= (select cast(date_trunc('month', min(start_date)) as date) from contracts)
  and c.month_end <= as_of_date();

-- reporting_fx: how to convert each currency into the reporting currency in each month.
create view reporting_fx as
with currencies as (
  select distinct currency from price_book
  union
  select distinct currency from customers
),
latest as (
  select m.month, c.currency, max(q.date) as rate_date
  from metric_months m
  cross join currencies c
  join fx_quotes q
    on q.from_currency = c.currency and q.to_currency = reporting_currency()
   and q.date <= m.last_day
  group by m.month, c.currency
)
select m.month, c.currency,
       case when c.currency = reporting_currency() then cast(1 as decimal(38, 12))
            else q.multiplier end as fx_multiplier,
       case when c.currency = reporting_currency() then cast(1 as decimal(38, 12))
            else q.divisor end as fx_divisor
from metric_months m
cross join currencies c
left join latest l on l.month = m.month and l.currency = c.currency
left join fx_quotes q
  on q.from_currency = c.currency and q.to_currency = reporting_currency()
 and q.date = l.rate_date;

create view recurring_mrr as
with active as (
  select t.contract_id, t.customer_id, t.discount_pct, m.month, m.last_day, f.charge_id,
         sum(f.quantity) as quantity
  from contract_terms t
  join metric_months m
    on t.start_date <= m.last_day and (t.end_date is null or t.end_date > m.last_day)
  join item_facts f
    on f.contract_id = t.contract_id and f.active_from <= m.last_day
   and (f.active_to is null or f.active_to > m.last_day)
  group by t.contract_id, t.customer_id, t.discount_pct, m.month, m.last_day, f.charge_id
)
select a.customer_id, a.month,
       sum(money_amount(
             prorate(rate_tiers(p.pricing_model, a.quantity, p.up_tos, p.unit_prices,
                                p.flat_fees, p.package_size),
                     1 - a.discount_pct,
                     case p."interval" when 'year' then 12 when 'quarter' then 3 else 1 end),
             1, x.fx_multiplier, x.fx_divisor, reporting_currency())) as recurring_mrr
from active a
join price_book p
  on p.contract_id = a.contract_id and p.charge_id = a.charge_id
 and p.charge_type = 'recurring'
 and (p.effective_from is null or p.effective_from <= a.last_day)
 and (p.effective_to is null or p.effective_to > a.last_day)
left join reporting_fx x on x.month = a.month and x.currency = p.currency
group by a.customer_id, a.month;

create view usage_mrr as
select s.customer_id, s.month,
       sum(money_amount(s.amount, 1, x.fx_multiplier, x.fx_divisor, reporting_currency()))
         as usage_mrr
from revenue_schedule s
join invoice_lines l on l.invoice_id = s.invoice_id and l.line_no = s.line_no
join charges ch on ch.contract_id = l.contract_id and ch.charge_id = l.charge_id
join reporting_fx x on x.month = s.month and x.currency = s.currency
where ch.charge_type = 'usage' and l.line_type in ('usage', 'adjustment')
group by s.customer_id, s.month;

create view mrr as
with customer_months as (
  select c.customer_id, m.month
  from customers c
  join (select customer_id, min(start_date) as first_day from contracts group by customer_id) k
    on k.customer_id = c.customer_id
  join metric_months m on m.last_day >= k.first_day
)
select cm.customer_id, cm.month,
       coalesce(rm.recurring_mrr, 0) + coalesce(um.usage_mrr, 0) as mrr,
       coalesce(rm.recurring_mrr, 0) as recurring_mrr,
       coalesce(um.usage_mrr, 0) as usage_mrr
from customer_months cm
left join recurring_mrr rm on rm.customer_id = cm.customer_id and rm.month = cm.month
left join usage_mrr um on um.customer_id = cm.customer_id and um.month = cm.month;

create view mrr_changes as
select customer_id, month, mrr,
       coalesce(lag(mrr) over w, 0) as previous_mrr,
       coalesce(max(mrr) over (partition by customer_id order by month
                               rows between unbounded preceding and 1 preceding), 0)
         as earlier_max_mrr
from mrr
window w as (partition by customer_id order by month);

create view mrr_movements as
select customer_id, month,
       case when previous_mrr = 0 and earlier_max_mrr = 0 then 'new'
            when previous_mrr = 0 then 'reactivation'
            when mrr = 0 then 'churn'
            when mrr > previous_mrr then 'expansion'
            else 'contraction' end as movement,
       mrr - previous_mrr as delta
from mrr_changes
where mrr <> previous_mrr;

create view nrr as
with moves as (
  select c.month,
         sum(c.previous_mrr) as starting_mrr,
         sum(case when m.movement = 'new' then m.delta else 0 end) as new,
         sum(case when m.movement = 'expansion' then m.delta else 0 end) as expansion,
         sum(case when m.movement = 'contraction' then -m.delta else 0 end) as contraction,
         sum(case when m.movement = 'churn' then -m.delta else 0 end) as churn,
         sum(case when m.movement = 'reactivation' then m.delta else 0 end) as reactivation
  from mrr_changes c
  left join mrr_movements m on m.customer_id = c.customer_id and m.month = c.month
  group by c.month
),
trailing as (
  select now.month,
         sum(now.mrr) as mrr_now,
         sum(least(now.mrr, before.mrr)) as mrr_capped,
         sum(before.mrr) as mrr_before
  from mrr now
  join mrr before
    on before.customer_id = now.customer_id
   and before.month = cast(now.month - interval '12 month' as date)
  where before.mrr > 0
  group by now.month
)
select m.month, m.starting_mrr, m.new, m.expansion, m.contraction, m.churn,
       m.reactivation,
       case when m.starting_mrr > 0 then
         cast(m.starting_mrr + m.expansion - m.contraction - m.churn as double)
           / cast(m.starting_mrr as double) end as nrr,
       case when m.starting_mrr > 0 then
         cast(m.starting_mrr - m.contraction - m.churn as double)
           / cast(m.starting_mrr as double) end as grr,
       cast(t.mrr_now as double) / cast(t.mrr_before as double) as nrr_12m,
       cast(t.mrr_capped as double) / cast(t.mrr_before as double) as grr_12m
from moves m
left join trailing t on t.month = m.month;

create view cohorts as
with firsts as (
  select customer_id, min(month) as cohort_month from mrr where mrr > 0 group by customer_id
),
followed as (
  select f.cohort_month, m.customer_id, m.month, m.mrr,
         (extract(year from m.month) - extract(year from f.cohort_month)) * 12
           + extract(month from m.month) - extract(month from f.cohort_month)
           as months_since
  from firsts f
  join mrr m on m.customer_id = f.customer_id and m.month >= f.cohort_month
),
sizes as (
  select cohort_month, count(*) as customers, sum(mrr) as starting_mrr
  from followed where months_since = 0 group by cohort_month
)
select f.cohort_month, cast(f.months_since as bigint) as months_since, s.customers,
       count(case when f.mrr > 0 then 1 end) as customers_retained,
       cast(count(case when f.mrr > 0 then 1 end) as double) / cast(s.customers as double)
         as logo_retention,
       sum(f.mrr) as mrr,
       case when s.starting_mrr > 0 then
         cast(sum(f.mrr) as double) / cast(s.starting_mrr as double) end
         as revenue_retention
from followed f
join sizes s on s.cohort_month = f.cohort_month
group by f.cohort_month, f.months_since, s.customers, s.starting_mrr;
