-- commitment_lines: at the end of each commit period (plus grace_days), a contract whose
-- commit_amount, prorated by days for a partial commit period, is above the period's
-- charges before discount gets a line for the difference. The period's charges are the
-- rounded recurring and usage lines billed by then for service within it; a line whose
-- service period is longer counts its share by days.
create view commit_periods as
with grid as (
  select t.contract_id, t.customer_id, t.start_date, t.end_date, t.billing_anchor,
         t.commit_interval, t.commit_amount, t.grace_days, t.invoice_currency,
         unnest(billing_periods(t.start_date, t.horizon, t.billing_anchor,
                                t.commit_interval)) as grid_start
  from contract_terms t
  where t.commit_amount > 0
)
select contract_id, customer_id, commit_amount, invoice_currency, grid_start,
       billing_period_end(grid_start, billing_anchor, commit_interval) as grid_end,
       greatest(grid_start, start_date) as period_start,
       least(billing_period_end(grid_start, billing_anchor, commit_interval), end_date)
         as period_end,
       add_days(least(billing_period_end(grid_start, billing_anchor, commit_interval),
                      end_date), grace_days) as invoice_date
from grid;

create view commitment_lines as
with charged as (
  select c.contract_id, c.period_start,
         sum(prorate(a.billed_amount,
                     days_between(greatest(a.period_start, c.period_start),
                                  least(a.period_end, c.period_end)),
                     days_between(a.period_start, a.period_end))) as charged
  from commit_periods c
  join period_amounts a
    on a.contract_id = c.contract_id and a.line_type in ('recurring', 'usage')
   and a.billing_date <= c.invoice_date
   and a.period_start < c.period_end and a.period_end > c.period_start
  group by c.contract_id, c.period_start
),
owed as (
  select c.*,
         round_money(prorate(c.commit_amount, days_between(c.period_start, c.period_end),
                             days_between(c.grid_start, c.grid_end))
                     - coalesce(h.charged, 0), c.invoice_currency) as amount
  from commit_periods c
  left join charged h on h.contract_id = c.contract_id and h.period_start = c.period_start
)
select contract_id, customer_id, invoice_date, 'commitment' as line_type,
       cast(null as varchar) as charge_id, period_start, period_end,
       cast(null as decimal(38, 9)) as quantity, cast(null as decimal(38, 12)) as proration,
       amount, invoice_currency as currency, 'Minimum commitment' as description
from owed
where amount > 0;
