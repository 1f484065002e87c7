"""Tuning: a budgeted, seeded Optuna search whose winner takes the normal candidate path.

`space` turns the configuration into Optuna suggestions, `objective` scores a trial by
cross-validation on the training data, `search` runs trials against Optuna's storage (shared by
several processes when it is an RDB), `tracking` records the study in nested MLflow runs, and
`job` is the `mlgate tune` command.
"""
