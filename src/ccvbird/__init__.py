"""ccvbird: CCV Shop orders become paid Moneybird invoices, exactly once, to the cent."""

__version__ = "0.1.0"
