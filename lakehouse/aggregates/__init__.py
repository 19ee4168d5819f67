"""The aggregate build: reference tables, the SQL files of lakehouse/sql/, and the runner that writes mart/."""
