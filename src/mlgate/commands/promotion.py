"""`promote` and `rollback`: the champion moves on main, to exactly the reviewed version."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from mlgate.commands import settings_of
from mlgate.errors import NoCandidateError, UsageError, UserError


def cmd_promote(args: argparse.Namespace) -> int:
    from mlgate.registry.promotion import promote
    from mlgate.report.markdown import write_step_summary

    if not (args.merge_commit or args.version or (args.pr is not None and args.head_sha)):
        raise UsageError(
            "promote needs --merge-commit, --pr with --head-sha, or --version "
            "(see mlgate promote --help)"
        )
    settings = settings_of(args, names=True)
    pr, head_sha, github = args.pr, args.head_sha, None
    if args.merge_commit:
        from mlgate.github.client import GitHubClient
        from mlgate.github.merges import find_merged_pr

        github = GitHubClient.from_env()
        try:
            found = find_merged_pr(github, args.merge_commit)
        except UserError as exc:
            write_step_summary(f"### Promotion\n\n❌ {exc}\n")
            raise
        if found is None:
            message = (
                f"{args.merge_commit[:12]} merged no pull request (a direct push): nothing promoted"
            )
            print(message)
            write_step_summary(f"### Promotion\n\n{message}\n")
            return 0
        pr, head_sha = found
        print(f"{args.merge_commit[:12]} merged PR #{pr} (head {head_sha[:12]})")
    try:
        outcome = promote(
            settings,
            pr=pr,
            head_sha=head_sha,
            version=args.version,
            commit=args.commit or args.merge_commit or os.environ.get("GITHUB_SHA"),
            val_path=args.val_data,
            github=github,
        )
    except NoCandidateError as exc:
        if github is None or pr is None:
            write_step_summary(f"### Promotion\n\n❌ {exc}\n")
            raise
        message = _no_candidate(github, pr, settings.promotion.model_inputs, exc)
        print(message)
        write_step_summary(f"### Promotion\n\n{message}\n")
        return 0
    except UserError as exc:
        write_step_summary(f"### Promotion\n\n❌ {exc}\n")
        raise
    print(outcome.message)
    write_step_summary(f"### Promotion\n\n✅ {outcome.message}\n")
    return 0


def _no_candidate(github, pr: int, patterns: Sequence[str], error: UserError) -> str:
    """A merged PR with no registered version: fine if it changed no model input, else fail.

    Such a PR's runs had no tracking credentials (a fork, or Dependabot without Dependabot
    secrets); a workflow or docs change needs no promotion, a model change must not vanish.
    """
    from mlgate.github.changes import model_inputs_changed
    from mlgate.report.markdown import write_step_summary

    touched = model_inputs_changed(github, pr, patterns)
    if touched:
        more = f" and {len(touched) - 1} more" if len(touched) > 1 else ""
        message = (
            f"{error}; PR #{pr} changes model inputs ({touched[0]}{more}), so it cannot be "
            "skipped: give its runs tracking credentials (Dependabot secrets for Dependabot "
            "PRs), re-run its PR workflow, then re-run this one"
        )
        write_step_summary(f"### Promotion\n\n❌ {message}\n")
        raise NoCandidateError(message)
    return (
        f"PR #{pr} registered no model version and changes no model input "
        f"({', '.join(patterns)}): nothing to promote"
    )


def cmd_rollback(args: argparse.Namespace) -> int:
    from mlgate.registry import versions as registry
    from mlgate.report.markdown import write_step_summary
    from mlgate.tracking import connection as tracking
    from mlgate.tracking.access import permission

    settings = settings_of(args, names=True)
    client = tracking.connect(tracking.resolve_uri(), settings.tracking.connect_retries)
    name = settings.production
    with permission(f"roll back registered model {name!r}"):
        outcome = registry.rollback(client, name, settings.tracking.champion_alias)
    print(outcome.message)
    write_step_summary(f"### Rollback\n\n{outcome.message}\n")
    return 0
