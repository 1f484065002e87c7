"""Test helpers shared by the test suite and the end-to-end workflow runs."""
