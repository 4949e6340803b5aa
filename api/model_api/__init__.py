"""The model API: serves the MLflow champion model and swaps in a new one without downtime."""
