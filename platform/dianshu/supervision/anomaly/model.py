"""The anomaly model: scikit-learn's IsolationForest fitted on the run's cases (each tree on a random
subsample of at most `max_samples` cases) and scoring all of them; and the features that drove each
score. Pure: numpy arrays in, numpy arrays out; deterministic under the seed (random_state) for the
same cases in the same order (the loader orders them by case id).

Score: 100 × the forest's anomaly score s = 2^(−E[h(x)] / c(n)) of Liu, Ting and Zhou (2008), i.e.
−score_samples: about 50 for an ordinary case, towards 100 for one isolated in few splits.

Drivers (explainable, and independent of the forest's internals): per case, the three features with
the largest absolute robust z-score against the case's DRG, z = (x − median) / scale, where median
and scale are the DRG's over the run's cases and scale = IQR / 1.349 (the standard deviation of a
normal spread with that IQR); a DRG whose IQR of the feature is 0 uses the feature's IQR over all
cases, then its standard deviation, then 1. Ties go to the feature listed first (features.FEATURES).
Each driver is reported with the case's value and its DRG's median."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IQR_TO_SIGMA = 1.349
DRIVERS = 3


@dataclass
class Scored:
    score: np.ndarray  # 0-100, float64
    rank: np.ndarray  # 1 = the most unusual; ties by case id
    drivers: np.ndarray  # n × DRIVERS feature indexes
    values: np.ndarray  # n × DRIVERS the case's values of them
    medians: np.ndarray  # n × DRIVERS its DRG's medians of them


def forest_scores(X: np.ndarray, *, seed: int, trees: int, max_samples: int, n_jobs: int | None = None) -> np.ndarray:
    from sklearn.ensemble import IsolationForest

    model = IsolationForest(n_estimators=trees, max_samples=min(max_samples, len(X)), random_state=seed, n_jobs=n_jobs)
    model.fit(X)
    return -model.score_samples(X) * 100.0


def group_quantiles(X: np.ndarray, groups: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """For each q in qs, a G × F array: each group's q-quantile of each feature (linear
    interpolation between order statistics, as numpy's default)."""
    G = int(groups.max()) + 1 if len(groups) else 0
    counts = np.bincount(groups, minlength=G)
    starts = np.cumsum(counts) - counts
    out = [np.empty((G, X.shape[1])) for _ in qs]
    for j in range(X.shape[1]):
        col = X[:, j]
        s = col[np.lexsort((col, groups))]
        for k, q in enumerate(qs):
            pos = starts + (counts - 1) * q
            lo = np.floor(pos).astype(np.int64)
            hi = np.ceil(pos).astype(np.int64)
            out[k][:, j] = s[lo] + (s[hi] - s[lo]) * (pos - lo)
    return out


def robust_z(X: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z, the DRG medians of each case) as the module docstring says."""
    q25, med, q75 = group_quantiles(X, groups, (0.25, 0.5, 0.75))
    scale = (q75 - q25) / IQR_TO_SIGMA
    g25, g75 = np.quantile(X, [0.25, 0.75], axis=0)
    fallback = (g75 - g25) / IQR_TO_SIGMA
    std = X.std(axis=0)
    fallback = np.where(fallback > 0, fallback, np.where(std > 0, std, 1.0))
    scale = np.where(scale > 0, scale, fallback[None, :])
    medians = med[groups]
    return (X - medians) / scale[groups], medians


def score_cases(
    X: np.ndarray,
    groups: np.ndarray,
    ids: np.ndarray,
    *,
    seed: int,
    trees: int,
    max_samples: int,
    n_jobs: int | None = None,
) -> Scored:
    score = forest_scores(X, seed=seed, trees=trees, max_samples=max_samples, n_jobs=n_jobs)
    order = np.lexsort((ids, -score))
    rank = np.empty(len(score), dtype=np.int64)
    rank[order] = np.arange(1, len(score) + 1)
    z, medians = robust_z(X, groups)
    drivers = np.argsort(-np.abs(z), axis=1, kind="stable")[:, :DRIVERS]
    rows = np.arange(len(X))[:, None]
    return Scored(score, rank, drivers, X[rows, drivers], medians[rows, drivers])
