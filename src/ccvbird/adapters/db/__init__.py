"""The state database: tables, migrations, the Store, the shared request budget."""
