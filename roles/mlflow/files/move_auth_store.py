"""Move the basic-auth users and permissions from the host's SQLite file into PostgreSQL.

Run once by the role, as the service with its environment file, with the server stopped,
when the auth store is a PostgreSQL schema (mlflow_auth_db_schema) and the host still has
the SQLite file an earlier version kept them in. Both stores are brought to the same schema
revision with MLflow's own migrations, then every row is copied, parents first, in one
transaction; PostgreSQL's id sequences are moved past the copied ids. The file is then
renamed (kept as a backup, never deleted). A PostgreSQL store that already has users (another
MLflow host moved its file first) is left as it is and the file is renamed all the same.

Usage: python move_auth_store.py <sqlite file> [<PostgreSQL URI>, by default the server's]
"""

import sys
from pathlib import Path

import sqlalchemy
from mlflow.server.auth.config import read_auth_config
from mlflow.server.auth.db import utils

VERSION_TABLE = "alembic_version_auth"


def move(source_file: Path, target_uri: str) -> str:
    source = sqlalchemy.create_engine(f"sqlite:///{source_file}")
    target = sqlalchemy.create_engine(target_uri)
    try:
        utils.migrate_if_needed(source, "head")
        utils.migrate_if_needed(target, "head")
        tables = sqlalchemy.MetaData()
        tables.reflect(target)
        with target.begin() as into:
            if into.execute(sqlalchemy.text("SELECT count(*) FROM users")).scalar():
                return "changed: nothing copied, the PostgreSQL store already has users"
            copied = 0
            with source.connect() as origin:
                present = set(sqlalchemy.inspect(source).get_table_names())
                for table in tables.sorted_tables:  # parents before the rows that refer to them
                    if table.name == VERSION_TABLE or table.name not in present:
                        continue
                    rows = [
                        dict(row._mapping)
                        for row in origin.execute(sqlalchemy.select(table.columns))
                    ]
                    if rows:
                        into.execute(table.insert(), rows)
                        copied += len(rows)
                        _advance_sequences(into, table)
        return f"changed: {copied} rows moved into the PostgreSQL store"
    finally:
        source.dispose()
        target.dispose()


def _advance_sequences(connection, table: sqlalchemy.Table) -> None:
    """Rows were inserted with their ids: the next id must come after the largest one."""
    for column in table.primary_key.columns:
        sequence = connection.execute(
            sqlalchemy.select(sqlalchemy.func.pg_get_serial_sequence(table.name, column.name))
        ).scalar()
        if sequence:
            largest = sqlalchemy.select(sqlalchemy.func.max(column)).scalar_subquery()
            connection.execute(sqlalchemy.select(sqlalchemy.func.setval(sequence, largest)))


if __name__ == "__main__":
    source_file = Path(sys.argv[1])
    uri = sys.argv[2] if len(sys.argv) > 2 else read_auth_config().database_uri
    if not uri.startswith("postgresql"):
        sys.exit(f"the auth store is not PostgreSQL ({uri.split(':')[0]}): nothing to move to")
    print(move(source_file, uri))
    source_file.rename(source_file.with_name(source_file.name + ".moved-to-postgresql"))
