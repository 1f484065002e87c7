-- MLflow's basic-auth users and permissions live in a database of their own, next to the
-- tracking database that POSTGRES_DB creates; both belong to the `mlflow` role.
CREATE DATABASE mlflow_auth OWNER mlflow;
