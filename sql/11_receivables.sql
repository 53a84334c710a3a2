-- Receivables: what each issued invoice still owes at the end of the as-of day.
-- A payment counts when its status is `succeeded` and it was made by the end of the as-of
-- day in the customer's time zone. Failed payments and later payments do not count.

-- dunning_stages: the dunning policy in force. A lake sets its own in the optional input
-- table `dunning_policy` (stage, days_overdue). Without one, the default below applies.
-- An invoice is at the stage with the highest days_overdue threshold it has reached.
create view dunning_stages as
select stage, days_overdue from dunning_policy
union all
select stage, days_overdue
from (values ('reminder', cast(1 as bigint)),
             ('second_reminder', cast(15 as bigint)),
             ('final_notice', cast(30 as bigint)),
             ('suspension', cast(45 as bigint))) as d(stage, days_overdue)
where (select count(*) from dunning_policy) = 0;

-- payment_totals: succeeded payments per issued invoice, made by the end of the as-of day.
create view payment_totals as
select p.invoice_id, sum(p.amount) as paid, count(*) as payments
from payments p
join invoices i on i.invoice_id = p.invoice_id
join customers c on c.customer_id = i.customer_id
where p.status = 'succeeded' and local_date(p.paid_at, c.timezone) <= as_of_date()
group by p.invoice_id;

-- unapplied_payments: succeeded payments made by the as-of day that name no issued
-- invoice, so they reduce no balance until the invoice id is corrected.
create view unapplied_payments as
select p.payment_id, p.invoice_id, p.paid_at, p.amount, p.status,
       'no invoice with this invoice_id is issued by the as-of date' as reason
from payments p
where p.status = 'succeeded'
  and cast(p.paid_at as date) <= as_of_date()
  and p.invoice_id not in (select invoice_id from invoices);

create view receivables as
with owed as (
  select i.invoice_id, i.customer_id, i.contract_id, i.invoice_date, i.due_date,
         i.currency, i.total,
         coalesce(p.paid, cast(0 as decimal(38, 12))) as paid,
         as_of_date() as as_of
  from invoices i
  left join payment_totals p on p.invoice_id = i.invoice_id
),
aged as (
  select o.*, o.total - o.paid as balance,
         case when o.total - o.paid > 0 and o.as_of > o.due_date
              then days_between(o.due_date, o.as_of)
              else cast(0 as bigint) end as days_overdue
  from owed o
),
-- Each stage applies from its threshold up to the next stage's threshold.
stage_ranges as (
  select stage, days_overdue as from_days,
         lead(days_overdue) over (order by days_overdue, stage) as until_days
  from dunning_stages
)
select a.invoice_id, a.customer_id, a.contract_id, a.invoice_date, a.due_date, a.currency,
       a.total, a.paid, a.balance, a.days_overdue,
       case when a.days_overdue = 0 then 'current'
            when a.days_overdue <= 30 then '1-30'
            when a.days_overdue <= 60 then '31-60'
            when a.days_overdue <= 90 then '61-90'
            else 'over 90' end as aging_bucket,
       coalesce(s.stage, 'none') as dunning_stage
from aged a
left join stage_ranges s
  on a.days_overdue > 0 and a.days_overdue >= s.from_days
 and (s.until_days is null or a.days_overdue < s.until_days);
