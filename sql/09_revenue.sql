-- Revenue recognition. Each invoice line is spread over calendar months by weights:
--   recurring lines and usage lines of other meters: days of service in the month;
--   usage lines of `sum` and `count` meters: the month's share of the quantity, by the
--     local day of the usage;
--   one-time lines: their day; commitment lines: the last day of their commit period;
--   adjustment lines: days of service, but months before the invoice's month are closed,
--     so their part is recognized in the invoice's month.
-- Amounts are rounded cumulatively: the amount through each month is rounded to the minor
-- unit and each month gets the difference, so a line's months add up to the line.

create view calendar_months as
select month_start, billing_period_end(month_start, date '1900-01-01', 'month') as month_end
from (
  select unnest(billing_periods(date '1900-01-01', date '2100-01-01', date '1900-01-01',
                                'month')) as month_start
);

-- line_recognition_weights: each line's weight per month (numerator) and the total weight.
create view line_recognition_weights as
with line_meters as (
  select l.invoice_id, l.line_no, l.contract_id, l.line_type, l.charge_id, l.period_start,
         l.period_end, l.invoice_date, coalesce(m.aggregation, 'sum') as aggregation
  from invoice_lines l
  left join charges ch on ch.contract_id = l.contract_id and ch.charge_id = l.charge_id
  left join meters m on m.meter = ch.meter
  where l.line_type <> 'discount'
),
by_quantity as (
  -- The month of a day is its first day, computed per row rather than by a range join
  -- with calendar_months, which would compare every daily sum with every month.
  select l.invoice_id, l.line_no, cast(date_trunc('month', f.local_day) as date) as month,
         cast(sum(case when l.aggregation = 'count' then f.event_count
                       else f.quantity_sum end) as decimal(38, 9)) as weight
  from line_meters l
  join usage_facts f
    on f.contract_id = l.contract_id and f.charge_id = l.charge_id
   and f.period_start = l.period_start and f.known_day <= l.invoice_date
  where l.line_type = 'usage' and l.aggregation in ('sum', 'count')
  group by l.invoice_id, l.line_no, cast(date_trunc('month', f.local_day) as date)
),
by_days as (
  select l.invoice_id, l.line_no,
         case when l.line_type = 'adjustment'
              then greatest(c.month_start, cast(date_trunc('month', l.invoice_date) as date))
              else c.month_start end as month,
         cast(sum(days_between(greatest(c.month_start, l.period_start),
                               least(c.month_end, l.period_end))) as decimal(38, 9))
           as weight
  from line_meters l
  join calendar_months c on c.month_start < l.period_end and c.month_end > l.period_start
  where l.line_type in ('recurring', 'adjustment')
     or (l.line_type = 'usage' and l.aggregation not in ('sum', 'count'))
  group by 1, 2, 3
),
on_one_day as (
  select l.invoice_id, l.line_no,
         cast(date_trunc('month', case when l.line_type = 'commitment'
                                       then add_days(l.period_end, -1)
                                       else l.period_start end) as date) as month,
         cast(1 as decimal(38, 9)) as weight
  from line_meters l
  where l.line_type in ('one_time', 'commitment')
),
weights as (
  select * from by_quantity
  union all
  select * from by_days
  union all
  select * from on_one_day
)
select invoice_id, line_no, month, weight,
       sum(weight) over (partition by invoice_id, line_no order by month) as weight_through,
       sum(weight) over (partition by invoice_id, line_no) as weight_total
from weights
where weight > 0;

-- discount_recognition: an invoice's revenue before discount recognized through each
-- month; the invoice's discount line follows it.
create view discount_recognition as
with line_through as (
  select w.invoice_id, w.line_no, w.month,
         prorate(l.amount, w.weight_through, w.weight_total) as amount_through
  from line_recognition_weights w
  join invoice_lines l on l.invoice_id = w.invoice_id and l.line_no = w.line_no
),
months as (
  select distinct invoice_id, month from line_recognition_weights
),
latest as (
  select m.invoice_id, m.month, t.line_no, max(t.month) as line_month
  from months m
  join line_through t on t.invoice_id = m.invoice_id and t.month <= m.month
  group by m.invoice_id, m.month, t.line_no
),
through as (
  select a.invoice_id, a.month, sum(t.amount_through) as amount_through
  from latest a
  join line_through t
    on t.invoice_id = a.invoice_id and t.line_no = a.line_no and t.month = a.line_month
  group by a.invoice_id, a.month
)
select d.invoice_id, d.line_no, t.month, t.amount_through,
       sum(l.amount) as invoice_amount
from invoice_lines d
join through t on t.invoice_id = d.invoice_id
join invoice_lines l on l.invoice_id = d.invoice_id and l.line_type <> 'discount'
where d.line_type = 'discount'
group by d.invoice_id, d.line_no, t.month, t.amount_through;

-- revenue_schedule: each line's revenue per month, net of discount (discount lines carry
-- the negative part) and without tax.
create view revenue_schedule as
with through as (
  select w.invoice_id, w.line_no, w.month,
         money_amount(l.amount * w.weight_through, w.weight_total, 1, 1, l.currency)
           as recognized_through
  from line_recognition_weights w
  join invoice_lines l on l.invoice_id = w.invoice_id and l.line_no = w.line_no
  union all
  select r.invoice_id, r.line_no, r.month,
         money_amount(l.amount * r.amount_through, r.invoice_amount, 1, 1, l.currency)
  from discount_recognition r
  join invoice_lines l on l.invoice_id = r.invoice_id and l.line_no = r.line_no
  where r.invoice_amount <> 0
)
select t.invoice_id, t.line_no, l.contract_id, l.customer_id, t.month,
       t.recognized_through
         - coalesce(lag(t.recognized_through) over (
             partition by t.invoice_id, t.line_no order by t.month), 0) as amount,
       l.currency
from through t
join invoice_lines l on l.invoice_id = t.invoice_id and l.line_no = t.line_no;

-- revenue_waterfall: revenue by the month it was invoiced and the month it is recognized.
create view revenue_waterfall as
select cast(date_trunc('month', l.invoice_date) as date) as invoice_month, s.month,
       sum(s.amount) as amount, s.currency
from revenue_schedule s
join invoice_lines l on l.invoice_id = s.invoice_id and l.line_no = s.line_no
group by 1, 2, 4;

-- deferred_revenue: per month and currency, billed (invoice lines before tax) against
-- recognized revenue. Closing below zero is unbilled revenue.
create view deferred_revenue as
with billed as (
  select cast(date_trunc('month', invoice_date) as date) as month, currency,
         sum(amount) as billed
  from invoice_lines group by 1, 2
),
recognized as (
  select month, currency, sum(amount) as recognized from revenue_schedule group by 1, 2
),
bounds as (
  select currency, min(month) as first_month, max(month) as last_month
  from (select month, currency from billed union all select month, currency from recognized)
  group by currency
),
months as (
  select b.currency, c.month_start as month
  from bounds b
  join calendar_months c on c.month_start >= b.first_month and c.month_start <= b.last_month
),
moves as (
  select m.month, m.currency, coalesce(b.billed, 0) as billed,
         coalesce(r.recognized, 0) as recognized
  from months m
  left join billed b on b.month = m.month and b.currency = m.currency
  left join recognized r on r.month = m.month and r.currency = m.currency
)
select month, currency,
       coalesce(sum(billed - recognized) over (
         partition by currency order by month
         rows between unbounded preceding and 1 preceding), 0) as opening,
       billed, recognized,
       sum(billed - recognized) over (
         partition by currency order by month
         rows between unbounded preceding and current row) as closing
from moves;
