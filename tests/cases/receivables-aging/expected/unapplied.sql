select payment_id, invoice_id, amount from unapplied_payments order by payment_id
