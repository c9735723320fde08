"""Faithful fakes of the services ccvbird talks to, for tests, demos and ``ccvbird sandbox``."""
