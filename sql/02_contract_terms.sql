-- contract_terms: each contract with its customer's billing settings.
create view contract_terms as
select k.contract_id, k.customer_id, k.rate_card_id, k.start_date, k.end_date,
       k.billing_anchor, k.commit_amount, k.commit_interval, k.discount_pct,
       k.grace_days, c.currency as invoice_currency, c.timezone, c.tax_rate,
       c.net_terms_days,
       -- Periods are generated up to the as-of date: none later can be due.
       least(coalesce(k.end_date, add_days(as_of_date(), 1)), add_days(as_of_date(), 1)) as horizon
from contracts k
join customers c on c.customer_id = k.customer_id;

-- item_facts: contract_items cut to the contract's dates, with the local day on which
-- each row became known (null: always known).
create view item_facts as
select i.contract_id, i.charge_id, coalesce(i.quantity, 1) as quantity,
       greatest(i.effective_from, t.start_date) as active_from,
       least(i.effective_to, t.end_date) as active_to,
       local_date(i.recorded_at, t.timezone) as known_day
from contract_items i
join contract_terms t on t.contract_id = i.contract_id
where (i.recorded_at is null or local_date(i.recorded_at, t.timezone) <= as_of_date());
