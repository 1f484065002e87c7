"""An act run's outcome parsed from its `--json` log: steps and their results, outputs,
annotations and summaries, and the familiar text output."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StepRecord:
    """One finished step as act reported it."""

    job: str
    job_id: str
    stage: str
    step: str
    step_id: str
    result: str
    nested: bool = False
    """True for the inner steps of a composite action (they carry the outer step's name)."""


@dataclass
class ActResult:
    """What one act invocation did; `output` is a readable log for assertion messages."""

    returncode: int
    output: str
    command: list[str]
    run_id: str
    duration: float
    timed_out: bool = False
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """act exited 0 (every job that ran succeeded)."""
        return self.returncode == 0 and not self.timed_out

    @property
    def steps(self) -> list[StepRecord]:
        """Finished steps in order (the set-up and complete pseudo-steps included)."""
        found = []
        for rec in self.records:
            if "stepResult" in rec:
                step_id = rec.get("stepID") or rec.get("stepid") or [""]
                found.append(
                    StepRecord(
                        job=rec.get("job", "").strip(),
                        job_id=rec.get("jobID", ""),
                        stage=rec.get("stage", ""),
                        step=rec.get("step", ""),
                        step_id=step_id[-1],
                        result=rec["stepResult"],
                        nested=len(step_id) > 1,
                    )
                )
        return found

    @property
    def failed_steps(self) -> list[StepRecord]:
        """Workflow steps (not composite actions' inner steps) whose result was failure."""
        return [s for s in self.steps if s.result == "failure" and not s.nested]

    @property
    def failed_step(self) -> str | None:
        """Name of the first failed step, if any."""
        failed = self.failed_steps
        return failed[0].step if failed else None

    @property
    def jobs(self) -> dict[str, str]:
        """Result ('success'/'failure') of each job that ran, by job name as act shows it."""
        return {r.get("job", "").strip(): r["jobResult"] for r in self.records if "jobResult" in r}

    @property
    def summaries(self) -> dict[str, str]:
        """Job summary markdown ($GITHUB_STEP_SUMMARY), by job id."""
        found: dict[str, str] = {}
        for rec in self.records:
            if rec.get("command") == "summary":
                job = rec.get("jobID", "")
                found[job] = found.get(job, "") + rec.get("content", "")
        return found

    def step_summaries(self, job_id: str) -> dict[str, str]:
        """Each step's own job-summary markdown in one job, by step name (as in `steps`)."""
        found: dict[str, str] = {}
        for rec in self.records:
            if rec.get("command") == "summary" and rec.get("jobID") == job_id:
                step = rec.get("step", "")
                found[step] = found.get(step, "") + rec.get("content", "")
        return found

    @property
    def annotations(self) -> list[tuple[str, str]]:
        """(command, message) of ::error::, ::warning:: and ::notice:: lines."""
        return [
            (rec["command"], rec.get("arg", ""))
            for rec in self.records
            if rec.get("command") in {"error", "warning", "notice"}
        ]

    def outputs(self, job_id: str | None = None) -> dict[str, str]:
        """Step outputs act recorded (name -> value), optionally for one job."""
        return {
            rec["name"]: rec.get("arg", "")
            for rec in self.records
            if rec.get("command") == "set-output" and job_id in (None, rec.get("jobID"))
        }

    def step_log(self, step: str | None = None, job_id: str | None = None) -> str:
        """Text the steps printed, optionally only one step's and/or one job's."""
        return "".join(
            rec.get("raw") or rec.get("msg", "")
            for rec in self.records
            if (rec.get("raw_output") or rec.get("raw"))
            and step in (None, rec.get("step"))
            and job_id in (None, rec.get("jobID"))
        )

    def describe(self) -> str:
        """Short failure description plus the log, for assertion messages."""
        head = f"act exited {self.returncode}" + (" (timed out)" if self.timed_out else "")
        failed = ", ".join(f"{s.job_id}: {s.step}" for s in self.failed_steps) or "none"
        return f"{head}; failed steps: {failed}\n$ {' '.join(self.command)}\n{self.output}"


def render(items: Iterable[dict[str, Any] | str]) -> str:
    """Turn act's JSON log (and any plain lines, in order) back into the familiar text log."""
    lines: list[str] = []
    for item in items:
        if isinstance(item, str):
            lines.append(item)
            continue
        job = item.get("job")
        prefix = f"[{job}] " if job else ""
        msg = item.get("msg", "")
        if item.get("raw_output"):
            lines.extend(f"{prefix}  | {line}" for line in msg.rstrip("\n").split("\n"))
        else:
            lines.append(f"{prefix}{msg.rstrip()}" if job else f"{item.get('level')}: {msg}")
    return "\n".join(lines) + "\n"
