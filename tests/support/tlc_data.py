"""Point a test project at the TLC months that the `tlc_month` fixture writes."""

from __future__ import annotations

from support.project import Project

DATA = """[data]
train = "data/green_tripdata_2023-01.parquet"
validation = "data/green_tripdata_2023-02.parquet"
"""


def with_data(project: Project) -> Project:
    """Add the `[data]` table, unless the project's configuration names data already."""
    text = project.config.read_text()
    if "[data]" not in text:
        project.config.write_text(DATA + text)
    return project
