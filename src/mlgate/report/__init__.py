"""The report: the JSON document every step shares, and its Markdown rendering."""
