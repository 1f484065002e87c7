"""Train and evaluate: fit the plug-in's pipeline, score it as served, decide the gate."""
