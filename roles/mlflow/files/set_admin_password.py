"""Set the basic-auth admin's password in MLflow's auth store to MLFLOW_AUTH_ADMIN_PASSWORD.

MLflow reads that variable only when it creates the admin, so a rotated password is written
here, with MLflow's own store (its hashing, its validation). Run as the service, with its
environment file: the password never appears on a command line.
"""

import os

from mlflow.server.auth.config import read_auth_config
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

config = read_auth_config()
store = SqlAlchemyStore()
store.init_db(config.database_uri)
store.update_user(config.admin_username, password=os.environ["MLFLOW_AUTH_ADMIN_PASSWORD"])
print(f"changed: the password of {config.admin_username}")
