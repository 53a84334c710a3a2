-- price_book: the tier lists that apply to each contract, one row per contract, charge
-- and price version. Rows of `prices` with a contract_id replace the rate card's whole
-- tier list of that charge for that contract.
create view contract_price_rows as
select k.contract_id, p.charge_id, p.charge_type, p.meter, p.dimension, p.pricing_model,
       p.tier, p.up_to, p.unit_price, p.flat_fee, p.package_size, p."interval",
       p.timing,
       p.currency, p.effective_from, p.effective_to, p.description
from contracts k
join prices p on p.contract_id = k.contract_id
union all
select k.contract_id, p.charge_id, p.charge_type, p.meter, p.dimension, p.pricing_model,
       p.tier, p.up_to, p.unit_price, p.flat_fee, p.package_size, p."interval",
       p.timing,
       p.currency, p.effective_from, p.effective_to, p.description
from contracts k
join prices p on p.rate_card_id = k.rate_card_id and p.contract_id is null
where not exists (
  select 1 from prices o where o.contract_id = k.contract_id and o.charge_id = p.charge_id
);

create view price_book as
select contract_id, charge_id, effective_from, effective_to,
       min(charge_type) as charge_type,
       min(meter) as meter,
       min(dimension) as dimension,
       min(pricing_model) as pricing_model,
       min(package_size) as package_size,
       min("interval") as "interval",
       min(timing) as timing,
       min(currency) as currency,
       min(description) as description,
       array_agg(up_to order by tier) as up_tos,
       array_agg(unit_price order by tier) as unit_prices,
       array_agg(flat_fee order by tier) as flat_fees
from contract_price_rows
group by contract_id, charge_id, effective_from, effective_to;

-- charges: what each contract's charges are, whatever their price version.
create view charges as
select contract_id, charge_id,
       min(charge_type) as charge_type,
       min(meter) as meter,
       min(dimension) as dimension,
       min("interval") as "interval",
       min(timing) as timing,
       min(description) as description
from price_book
group by contract_id, charge_id;
