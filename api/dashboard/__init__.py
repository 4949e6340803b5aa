"""The platform's Streamlit dashboard: health, experiments, models, pipelines, predictions.

Run: streamlit run dashboard/app.py, with this package's parent directory on PYTHONPATH and
the configuration in environment variables (see dashboard.settings).
"""
