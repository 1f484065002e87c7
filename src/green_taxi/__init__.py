"""The example model plug-in: NYC green-taxi trip duration in minutes.

Nothing in the lifecycle package imports this package; the configuration names it
(`[tool.mlgate.model] plugin = "green_taxi.plugin:GreenTaxi"`). This module stays
empty on purpose: the logged model ships this package, and unpickling its transformer must not
pull in the lifecycle code.
"""
