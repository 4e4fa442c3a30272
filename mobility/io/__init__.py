"""Reading and writing tables: ping readers, atomic Parquet output."""
