-- price_book: the tier lists that apply to each contract, one row per contract, charge
-- and price version. Rows of `prices` with a contract_id replace the rate card's whole
-- tier list of that charge for that contract.
-- price_versions builds each tier list once per rate card (or contract-specific charge)
-- and price version. The contracts then join to the few versions, so the ordered
-- array_agg runs on the prices table, not on every contract's copy of it.
create view price_versions as
select case when contract_id is null then rate_card_id end as rate_card_id, contract_id,
       charge_id, effective_from, effective_to,
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
from prices
group by 1, contract_id, charge_id, effective_from, effective_to;

create view price_book as
select k.contract_id, v.charge_id, v.effective_from, v.effective_to, v.charge_type,
       v.meter, v.dimension, v.pricing_model, v.package_size, v."interval", v.timing,
       v.currency, v.description, v.up_tos, v.unit_prices, v.flat_fees
from contracts k
join price_versions v on v.contract_id = k.contract_id
union all
select k.contract_id, v.charge_id, v.effective_from, v.effective_to, v.charge_type,
       v.meter, v.dimension, v.pricing_model, v.package_size, v."interval", v.timing,
       v.currency, v.description, v.up_tos, v.unit_prices, v.flat_fees
from contracts k
join price_versions v on v.rate_card_id = k.rate_card_id and v.contract_id is null
where not exists (
  select 1 from prices o where o.contract_id = k.contract_id and o.charge_id = v.charge_id
);

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
