-- billing_errors: contracts that cannot be billed, with every reason. Nothing of such a
-- contract is invoiced until its inputs are fixed.
create view billing_errors as
with reasons as (
  select k.contract_id, 'unknown customer ' || k.customer_id as reason
  from contracts k
  where not exists (select 1 from customers c where c.customer_id = k.customer_id)
  union all
  select k.contract_id, 'rate card ' || k.rate_card_id || ' has no prices' as reason
  from contracts k
  where not exists (select 1 from price_book p where p.contract_id = k.contract_id)
  union all
  select distinct i.contract_id,
         'charge ' || i.charge_id || ' of contract_items is not in rate card '
           || k.rate_card_id as reason
  from contract_items i
  join contracts k on k.contract_id = i.contract_id
  where not exists (
    select 1 from charges ch
    where ch.contract_id = i.contract_id and ch.charge_id = i.charge_id
  )
  union all
  select distinct i.contract_id, 'contract_items refer to unknown contract' as reason
  from contract_items i
  where not exists (select 1 from contracts k where k.contract_id = i.contract_id)
  union all
  select distinct a.contract_id,
         'no price of charge ' || a.charge_id || ' is effective on '
           || cast(a.period_start as varchar) as reason
  from period_amounts a
  where a.price_missing and a.billing_date <= as_of_date()
  union all
  select distinct a.contract_id,
         'no exchange rate from ' || p.price_currency || ' to ' || p.invoice_currency
           || ' on or before ' || cast(p.base_date as varchar) as reason
  from period_amounts a
  join charge_periods p
    on p.contract_id = a.contract_id and p.charge_id = a.charge_id
   and p.period_start = a.period_start
  where a.rate_missing and not a.price_missing and a.billing_date <= as_of_date()
)
select contract_id, string_agg(reason, '; ' order by reason) as reason
from (select distinct contract_id, reason from reasons)
group by contract_id;

-- charge_lines: the lines of each invoice before its discount line.
create view charge_lines as
select a.contract_id, a.customer_id, a.billing_date as invoice_date,
       a.billed_line_type as line_type, a.charge_id, a.period_start, a.period_end,
       a.billed_quantity as quantity,
       case when a.billed_line_type = 'adjustment' then null else a.proration end
         as proration,
       a.billed_amount as amount, a.invoice_currency as currency, a.description
from period_amounts a
where a.billing_date <= as_of_date()
  and not (a.billed_amount = 0 and a.billed_quantity = 0)
union all
select l.contract_id, l.customer_id, l.invoice_date, l.line_type, l.charge_id,
       l.period_start, l.period_end, l.quantity, l.proration, l.amount, l.currency,
       l.description
from commitment_lines l
where l.invoice_date <= as_of_date();

-- invoice_lines: one line per charge, period and line type, plus one discount line per
-- invoice of a contract with discount_pct: minus the discount of the other lines' sum,
-- rounded once.
create view invoice_lines as
with lines as (
  select l.*
  from charge_lines l
  where not exists (select 1 from billing_errors e where e.contract_id = l.contract_id)
),
discounts as (
  select l.contract_id, min(l.customer_id) as customer_id, l.invoice_date,
         'discount' as line_type, cast(null as varchar) as charge_id,
         cast(null as date) as period_start, cast(null as date) as period_end,
         cast(null as decimal(38, 9)) as quantity,
         cast(null as decimal(38, 12)) as proration,
         -round_money(prorate(sum(l.amount), min(t.discount_pct), 1), min(l.currency))
           as amount,
         min(l.currency) as currency, 'Discount' as description
  from lines l
  join contract_terms t on t.contract_id = l.contract_id
  where t.discount_pct > 0
  group by l.contract_id, l.invoice_date
),
all_lines as (
  select * from lines
  union all
  select * from discounts where amount <> 0
)
select 'INV-' || contract_id || '-' || cast(invoice_date as varchar) as invoice_id,
       cast(row_number() over (
         partition by contract_id, invoice_date
         order by case line_type
                    when 'recurring' then 1 when 'usage' then 2 when 'one_time' then 3
                    when 'adjustment' then 4 when 'commitment' then 5 else 6
                  end,
                  charge_id, period_start
       ) as int) as line_no,
       customer_id, contract_id, invoice_date, line_type, charge_id, period_start,
       period_end, quantity, proration, amount, currency, description
from all_lines;

-- invoices: one per contract and invoice day with lines; tax on the subtotal, rounded once.
create view invoices as
with sums as (
  select invoice_id, min(customer_id) as customer_id, min(contract_id) as contract_id,
         min(invoice_date) as invoice_date, min(currency) as currency,
         sum(amount) as subtotal
  from invoice_lines
  group by invoice_id
),
taxed as (
  select s.*, add_days(s.invoice_date, t.net_terms_days) as due_date,
         round_money(prorate(s.subtotal, t.tax_rate, 1), s.currency) as tax
  from sums s
  join contract_terms t on t.contract_id = s.contract_id
)
select invoice_id, customer_id, contract_id, invoice_date, due_date, currency, subtotal,
       tax, subtotal + tax as total
from taxed;
