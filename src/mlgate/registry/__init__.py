"""Registry and promotion: candidate versions, the champion alias, the lock, rollback."""
