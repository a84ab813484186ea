"""Alembic's environment: the app's SQLite database, online mode only."""
import os

from alembic import context
from sqlalchemy import create_engine

url = "sqlite:///" + os.environ.get("APP_DB", "/data/app.db")
with create_engine(url).connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
