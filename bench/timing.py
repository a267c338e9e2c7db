"""Timing helpers: warm-up, repeated runs, and the result rows of the report."""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field

from django.db import connection, transaction


@dataclass
class Result:
    scenario: str
    median: float
    minimum: float
    maximum: float
    baseline_median: float | None = None
    target: float | None = None  # maximum ratio to the baseline
    unit: str = "s"
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline_median:
            return self.median / self.baseline_median
        return None

    @property
    def verdict(self) -> str:
        if self.target is None or self.ratio is None:
            return self.extra.get("verdict", "")
        return "ok" if self.ratio <= self.target else "MISSED"

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio, "verdict": self.verdict}


def timed(function, *, runs: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def compare(name, ours, baseline, *, runs, target, warmup=1, note="", alternate=False) -> Result:
    """Median of `ours` against the median of `baseline`, measured interleaved in the same run.

    `alternate`: for seconds-long runs on shared cores, where load drifts between runs:
    rounds swap which side goes first (neither always gets the quieter slot) and the
    note lists every pair's ratio, so drift shows as spread.
    """
    for _ in range(warmup):
        baseline()
        ours()
    our_samples, base_samples = [], []
    for round_number in range(runs):
        sides = [(baseline, base_samples), (ours, our_samples)]
        for function, samples in sides[:: -1 if alternate and round_number % 2 else 1]:
            started = time.perf_counter()
            function()
            samples.append(time.perf_counter() - started)
    extra = {}
    if alternate:
        pairs = ", ".join(f"{o / b:.2f}" for o, b in zip(our_samples, base_samples, strict=True))
        note = f"{note}baseline {min(base_samples):.2f}-{max(base_samples):.2f}s; pair ratios {pairs}"
        extra = {"ours": our_samples, "baseline": base_samples}
    return Result(
        scenario=name,
        median=statistics.median(our_samples),
        minimum=min(our_samples),
        maximum=max(our_samples),
        baseline_median=statistics.median(base_samples),
        target=target,
        note=note,
        extra=extra,
    )


def rolled_back(function):
    """Run `function` in a transaction that is rolled back, so every run sees the same rows."""

    def run():
        with transaction.atomic():
            function()
            transaction.set_rollback(True)

    return run


def raw(sql, params=None):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.description:
                cursor.fetchall()

    return run
