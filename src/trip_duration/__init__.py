"""NYC green-taxi trip duration: an MLOps template."""
