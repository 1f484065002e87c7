"""The sample's fixed city: 265 seeded zones in borough-like clusters, their popularity, and
per-pair distance, slowness and crossing time, the same every month."""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from green_taxi.sample_shape import (
    ACCESS_MINUTES_SD,
    BASE_OFFSET_MINUTES,
    CLUSTERS,
    CONGESTION_CUT_Y,
    CORE_SLOWNESS,
    CROSSING_MINUTES,
    DETOUR,
    DO_ZIPF,
    GRAVITY,
    MIN_OFFSET_MINUTES,
    N_ZONES,
    PAIR_SLOWNESS_SD,
    PU_ZIPF,
    SAME_ZONE_BOOST,
    ZONE_SEED,
    ZONE_SLOWNESS_SD,
)


@dataclass(frozen=True)
class ZoneTable:
    """Everything that stays fixed from month to month, indexed by flat pair (pu-1)*265+(do-1)."""

    pair_prob: np.ndarray
    pair_alias: np.ndarray
    pair_miles: np.ndarray
    pair_slowness: np.ndarray
    pair_offset: np.ndarray
    congestion_zone: np.ndarray


def _popularity(rng: np.random.Generator, power: float, tau: float) -> np.ndarray:
    """Zone weights with a heavy head, assigned to zone ids in a seeded order."""
    rank = np.arange(1, N_ZONES + 1, dtype=float)
    weight = rank**-power * np.exp(-rank / tau)
    return weight[rng.permutation(N_ZONES)] / weight.sum()


def _alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table: O(1) sampling per row from ~70k zone pairs (built once)."""
    size = len(weights)
    scaled = (weights * (size / weights.sum())).tolist()
    prob, alias = [1.0] * size, list(range(size))
    small = [i for i, w in enumerate(scaled) if w < 1.0]
    large = [i for i, w in enumerate(scaled) if w >= 1.0]
    while small and large:
        lo, hi = small.pop(), large.pop()
        prob[lo], alias[lo] = scaled[lo], hi
        scaled[hi] += scaled[lo] - 1.0
        (small if scaled[hi] < 1.0 else large).append(hi)
    return np.array(prob), np.array(alias, dtype=np.int64)


@lru_cache(maxsize=4)
def zone_table(seed: int = ZONE_SEED) -> ZoneTable:
    """Build the seeded zone geography, popularity and per-pair effects (cached)."""
    rng = np.random.default_rng(seed)
    cluster = np.repeat(np.arange(len(CLUSTERS)), [c[0] for c in CLUSTERS])
    centre = np.array([c[1] for c in CLUSTERS])[cluster]
    spread = np.array([c[2] for c in CLUSTERS])[cluster]
    xy = centre + spread * rng.standard_normal((N_ZONES, 2))
    order = rng.permutation(N_ZONES)
    cluster, xy = cluster[order], xy[order]

    pu_weight = _popularity(rng, *PU_ZIPF)
    do_weight = _popularity(rng, *DO_ZIPF)
    straight = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    detour = np.clip(rng.normal(*DETOUR, size=(N_ZONES, N_ZONES)), 1.05, None)
    miles = straight * (detour + detour.T) / 2
    np.fill_diagonal(miles, rng.uniform(0.45, 1.1, N_ZONES))

    power, near, tail, far = GRAVITY
    reach = miles**power * np.exp(-miles / near) + tail * np.exp(-miles / far)
    reach *= do_weight[None, :]
    reach[np.diag_indices(N_ZONES)] *= SAME_ZONE_BOOST
    joint = pu_weight[:, None] * reach / reach.sum(axis=1, keepdims=True)
    pair_prob, pair_alias = _alias_table(joint.ravel())

    zone_slow = rng.normal(0.0, ZONE_SLOWNESS_SD, N_ZONES) + CORE_SLOWNESS * (cluster == 0)
    pair_slow = rng.normal(0.0, PAIR_SLOWNESS_SD, (N_ZONES, N_ZONES))
    slowness = np.exp(zone_slow[:, None] + zone_slow[None, :] + pair_slow)
    offset = BASE_OFFSET_MINUTES + CROSSING_MINUTES[cluster[:, None], cluster[None, :]]
    offset = offset * rng.uniform(0.7, 1.3, (N_ZONES, N_ZONES))
    access = rng.normal(0.0, ACCESS_MINUTES_SD, size=(2, N_ZONES))
    offset = np.maximum(offset + access[0][:, None] + access[1][None, :], MIN_OFFSET_MINUTES)
    congestion = (cluster == 0) & (xy[:, 1] < CONGESTION_CUT_Y)
    return ZoneTable(
        pair_prob=pair_prob,
        pair_alias=pair_alias,
        pair_miles=miles.ravel(),
        pair_slowness=slowness.ravel(),
        pair_offset=offset.ravel(),
        congestion_zone=congestion,
    )
