select invoice_id, days_overdue, dunning_stage from receivables order by invoice_id
