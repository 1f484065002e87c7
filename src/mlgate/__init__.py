"""mlgate: train, compare, report and promote a model from pull requests, with MLflow."""
