"""ccvbird: CCV Shop orders become paid Moneybird invoices, exactly once, to the cent."""

from importlib.metadata import PackageNotFoundError, version

try:
    #: The installed distribution's version (``pyproject.toml``), so a wheel says what it is.
    __version__ = version("ccvbird")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0.0.0+unknown"
