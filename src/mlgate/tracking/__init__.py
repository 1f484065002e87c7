"""Tracking and lineage: connecting to the MLflow store, and where a run came from."""
