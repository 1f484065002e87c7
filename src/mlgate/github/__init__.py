"""GitHub: the REST client, the sticky PR comment, and finding the PR behind a commit."""
