"""CCV Shop: wire models and their translation into domain orders."""
