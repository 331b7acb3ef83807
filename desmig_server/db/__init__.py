"""Storage: SQLAlchemy Core tables, versioned migrations, engine and transaction helpers."""
