"""Plug-ins for the serving tests: the example model with one thing broken for serving."""

from __future__ import annotations

import pandas as pd

from green_taxi.plugin import GreenTaxi
from mlgate.contract import Dataset


class RejectedExample(GreenTaxi):
    """Logs an input example whose columns the model's signature does not accept."""

    def input_example(self, data: Dataset) -> pd.DataFrame:
        return data.features.head(5).rename(columns={"trip_distance": "distance_miles"})
