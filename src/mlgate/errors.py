"""Errors a user can act on: the CLI prints their message as one line and exits non-zero."""


class UserError(Exception):
    """Bad input or environment (a file, column or setting); the message names which."""

    exit_code = 1


class GateFailedError(UserError):
    """The candidate did not pass the quality gate; nothing was promoted."""

    exit_code = 3


class NoCandidateError(UserError):
    """No registered version matches what the caller asked to promote."""

    exit_code = 4


class ServingFailedError(UserError):
    """The candidate failed the serving contract; it was not registered."""

    exit_code = 6


class UsageError(UserError):
    """The command line itself is wrong (a missing or malformed argument): exit status 2."""

    exit_code = 2
