"""Build of the aggregate tables (mart/) from raw/ with DuckDB SQL."""
