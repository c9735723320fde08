"""Moneybird: request bodies built from domain invoices and contacts."""
