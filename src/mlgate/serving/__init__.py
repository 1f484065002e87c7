"""Serving: the candidate as MLflow's own scoring server serves it, and batch scoring."""
