"""Two proportions and their difference (the statistics of `segsql report`).

Wilson score interval for one proportion, and Newcombe's hybrid score interval for the
difference of two independent proportions (Newcombe 1998, Statistics in Medicine
17:873-890, method 10), which is built from the two Wilson intervals: with p1 = x1/n1,
p2 = x2/n2, d = p1 - p2 and Wilson limits (l1, u1), (l2, u2),

    L = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)
    U = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)

Worked example of the paper: 56/70 vs 48/80 gives d = 0.2000, 95% CI 0.0524 to 0.3339.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of x successes in n trials ((0, 1) when n is 0)."""
    if n == 0:
        return (0.0, 1.0)
    p = x / n
    denom = n + z * z
    centre = (x + z * z / 2) / denom
    half = z * math.sqrt(n * p * (1 - p) + z * z / 4) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Difference:
    """p1 - p2 with its confidence interval."""

    estimate: float
    low: float
    high: float


def newcombe(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> Difference | None:
    """Newcombe's hybrid score interval of p1 - p2; None when an arm is empty."""
    if n1 == 0 or n2 == 0:
        return None
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(d, low, high)
