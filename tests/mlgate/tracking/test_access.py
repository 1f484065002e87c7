"""Refusals from an auth-enabled tracking server come out as one line naming user and action."""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE, PERMISSION_DENIED

from mlgate import cli
from mlgate.tracking.access import AccessDeniedError, as_user_error, permission

DENIED_TEXT = (
    "API request to endpoint /api/2.0/mlflow/registered-models/alias failed with error code "
    "403 != 200. Response body: 'Permission denied'"
)


def denied() -> MlflowException:
    return MlflowException(DENIED_TEXT, error_code=PERMISSION_DENIED)


@pytest.mark.parametrize(
    ("user", "who"), [("ci-pr", "user 'ci-pr'"), ("", "this credential")], ids=["named", "token"]
)
def test_a_refusal_names_the_user_and_the_action(
    monkeypatch: pytest.MonkeyPatch, user: str, who: str
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    with pytest.raises(AccessDeniedError) as refused, permission("move prod@champion"):
        raise denied()
    message = str(refused.value)
    assert "\n" not in message
    assert f"refused {who} permission to move prod@champion (HTTP 403)" in message


def test_copy_model_versions_wrapped_refusal_is_recognised() -> None:
    wrapped = MlflowException(
        "Failed to create model version copy. The current model registry backend may not yet "
        f"support model version URI sources.\nError: {DENIED_TEXT}",
        error_code=INTERNAL_ERROR,
    )
    error = as_user_error(wrapped, "write prod")
    assert error is not None
    assert "permission to write prod" in str(error)


def test_wrong_credentials_say_which_variables_to_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ci-pr")
    wrong = MlflowException(
        "API request to endpoint /api/2.0/mlflow/experiments/search failed with error code "
        "401 != 200. Response body: 'You are not authenticated.'"
    )
    error = as_user_error(wrong)
    assert error is not None
    assert "rejected the credentials of user 'ci-pr' (HTTP 401)" in str(error)


@pytest.mark.parametrize(
    "exc",
    [
        MlflowException("bad value", error_code=INVALID_PARAMETER_VALUE),
        ValueError("error code 403 != 200"),
    ],
    ids=["other-mlflow-error", "not-mlflow"],
)
def test_other_errors_pass_through(exc: Exception) -> None:
    assert as_user_error(exc) is None
    with pytest.raises(type(exc)), permission("anything"):
        raise exc


def test_the_cli_turns_any_refusal_into_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(_args: object) -> int:
        raise denied()

    monkeypatch.setitem(cli.COMMANDS, "rollback", refused)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ci-pr")

    assert cli.main(["rollback"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err]
    assert "user 'ci-pr'" in err
    assert "/api/2.0/mlflow/registered-models/alias" in err
