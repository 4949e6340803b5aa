"""The DAGs' logic, free of Airflow so it can be tested and reused on its own.

train_model.py and score_dataset.py (the DAGs) call these modules: data (read and validate a
CSV), model (train), registry (log, register, promote), scoring (score a CSV with a model
version), signature (the model API's checks of a model's signature: a link to
api/model_api/schema.py). Only tasks holds what the tasks share with Airflow: the S3 and MLflow
connections and how bad input fails a task. The Airflow bundle puts this package on sys.path
next to the DAG files.
"""
