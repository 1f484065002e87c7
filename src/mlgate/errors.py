"""Errors a user can act on: the CLI prints their message as one line and exits non-zero,
with the status `mlgate --help` documents."""

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_GATE_FAILED = 3
EXIT_NO_CANDIDATE = 4
EXIT_DRIFT = 5
EXIT_SERVING_FAILED = 6


class UserError(Exception):
    """Bad input or environment (a file, column or setting); the message names which."""

    exit_code = EXIT_ERROR


class GateFailedError(UserError):
    """The candidate did not pass the quality gate; nothing was promoted."""

    exit_code = EXIT_GATE_FAILED


class NoCandidateError(UserError):
    """No registered version matches what the caller asked to promote."""

    exit_code = EXIT_NO_CANDIDATE


class ServingFailedError(UserError):
    """The candidate failed the serving contract; it was not registered."""

    exit_code = EXIT_SERVING_FAILED


class UsageError(UserError):
    """The command line itself is wrong (a missing or malformed argument): exit status 2."""

    exit_code = EXIT_USAGE
