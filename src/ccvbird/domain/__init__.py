"""Pure domain code: money, VAT, orders, invoices, the mapping and the decisions. Stdlib only."""
