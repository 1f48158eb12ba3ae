"""How the models' scores become one answer: who leads, by how much, and how two opinions
combine. Plain numpy on small vectors, one entry per candidate language, in configured order
(so that "the first of equals" is the language configured first)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# Probabilities are floored before they are multiplied, so that one model's near-zero cannot
# veto the other's strong evidence.
PROBABILITY_FLOOR = 1e-4

Vector = npt.NDArray[np.float64]


_NO_RUNNER_UP = int(np.iinfo(np.int32).max)


def leader(costs: list[int]) -> tuple[int, int]:
    """The index of the lowest cost (the first of equals) and its lead over the next lowest."""
    # On a vector of a few dozen entries, plain Python on a list beats numpy's per-call cost,
    # and one C-level sort beats finding and removing the lowest to find the next.
    if len(costs) == 1:
        return 0, _NO_RUNNER_UP
    ranked = sorted(costs)
    lowest = ranked[0]
    return costs.index(lowest), ranked[1] - lowest


def softmax(log_scores: Vector) -> Vector:
    shifted = np.exp(log_scores - log_scores.max())
    return shifted / shifted.sum()


def normalized(probabilities: Vector) -> Vector:
    """The probabilities rescaled to sum to 1 (uniform if they are all zero)."""
    total = probabilities.sum()
    if total <= 0:
        return np.full(len(probabilities), 1 / len(probabilities))
    return probabilities / total


def combine(*opinions: Vector) -> Vector:
    """The normalized product of several models' (floored) probabilities for the same
    candidates: naive Bayes over the models, each taken as independent evidence."""
    log_scores = sum(np.log(opinion + PROBABILITY_FLOOR) for opinion in opinions)
    return softmax(np.asarray(log_scores, dtype=np.float64))
