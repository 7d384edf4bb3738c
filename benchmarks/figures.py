"""This module prints latency figures the same way in every benchmark."""

from __future__ import annotations

import statistics


def percentile(values: list[float], share: float) -> float:
    """The value ``share`` of the way up the sorted values (0.99: p99)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def latency_line(name: str, latencies: list[float], width: int) -> None:
    """One phase's replies: how many, p50, p99 and the slowest, in milliseconds."""
    if not latencies:
        print(f"{name:<{width}} no replies")
        return
    median = statistics.median(latencies)
    print(
        f"{name:<{width}} {len(latencies):>5} replies  p50 {median * 1000:7.1f} ms"
        f"  p99 {percentile(latencies, 0.99) * 1000:7.1f} ms"
        f"  max {max(latencies) * 1000:7.1f} ms"
    )
