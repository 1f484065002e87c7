"""The `spark` engine of `predict` and `monitor`: the same answers, computed by a Spark cluster
(or Spark's local mode). PySpark is an optional extra, imported only here."""
