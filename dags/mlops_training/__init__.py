"""The training pipeline's logic, free of Airflow so it can be tested and reused on its own.

train_model.py (the DAG) reads data through Airflow's S3 connection and calls these
functions; the Airflow bundle puts this package on sys.path next to the DAG file.
"""
