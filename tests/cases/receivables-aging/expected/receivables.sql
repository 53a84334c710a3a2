select invoice_id, customer_id, due_date, total, paid, balance, days_overdue, aging_bucket,
       dunning_stage
from receivables order by invoice_id
