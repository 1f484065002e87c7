"""Write synthetic NYC TLC green-taxi months as parquet in the exact TLC green schema.

Why: tests, CI and benchmarks need realistic trip records without network access, and the
repository must not ship real TLC rows. Every file this module writes is synthetic. It is part
of the example package, so it goes when the example is removed.

The constants below were calibrated by hand on summary statistics of one real month
(green_tripdata_2023-01, 68,211 rows): Arrow types and timestamp unit, zone popularity,
trip-distance quantiles, duration by distance, NaN rates and the share of each kind of
dirty row. No real row is read, copied or shipped by this module.

Trip durations depend on distance and on the pickup/dropoff zone pair (a seeded table of 265
zones with borough clusters, bridge offsets, per-zone access time and congestion), plus noise.
Per-pair effects are deliberately about twice as strong as in the real month (spread of per-pair
mean log-duration residuals 0.33 vs 0.18), so a model on one-hot PU_DO + trip_distance visibly
beats distance alone. The zone table has a fixed seed and trips a per-month seed, so a model
trained on one month generalises to the next.

Usage:
    python -m green_taxi.make_sample   # rewrite the two committed files in ./data/
    python -m green_taxi.make_sample --month 2023-03 --rows 2000000 --out /tmp/big.parquet
    python -m green_taxi.make_sample --month 2023-03 --rows 1000 --out x.parquet --drift
    python -m green_taxi.make_sample --month 2023-03 --out x.parquet --distance-scale 1.3
    python -m green_taxi.make_sample --month 2023-03 --out x.parquet --zone-mix 0.5

`--drift` changes the schema (another month's column types); `--distance-scale` and
`--zone-mix` change the data itself, for calibrating the drift monitor: every trip is longer,
or a share of trips is redrawn from another city's zone popularity (the same streets, so
durations still follow distance and zone pair). They draw from a random stream of their own, so
without them the output is byte-for-byte what it always was.
"""

import argparse
import itertools
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DATA_DIR = Path("data")  # relative to where it runs: the repository's root

# Rows per committed month: small enough that both files together stay under 1 MB.
DEFAULT_FILES: dict[str, int] = {"2023-01": 20_000, "2023-02": 20_000}
DEFAULT_SEED = 42
ZONE_SEED = 20_230_101
N_ZONES = 265

COLUMNS: tuple[str, ...] = (
    "VendorID",
    "lpep_pickup_datetime",
    "lpep_dropoff_datetime",
    "store_and_fwd_flag",
    "RatecodeID",
    "PULocationID",
    "DOLocationID",
    "passenger_count",
    "trip_distance",
    "fare_amount",
    "extra",
    "mta_tax",
    "tip_amount",
    "tolls_amount",
    "ehail_fee",
    "improvement_surcharge",
    "total_amount",
    "payment_type",
    "trip_type",
    "congestion_surcharge",
)
ID_COLUMNS = ("VendorID", "PULocationID", "DOLocationID")
ID_TYPES = {"int64": pa.int64(), "int32": pa.int32()}
EHAIL_TYPES = {"null": pa.null(), "double": pa.float64()}
TIMESTAMP_UNITS = ("us", "ns", "ms")

# --- Calibrated constants (from statistics of a real month, see module docstring) -----------

# Zone popularity: weight(rank) = rank**-a * exp(-rank / tau), fitted to the cumulative
# share of the top 1/2/5/10/20/50/100 zones (pickups: 19%/33%/50%/67%/83%/95%/98%).
PU_ZIPF = (0.78, 30.0)
DO_ZIPF = (0.44, 61.0)
# Borough-like clusters: (zone count, centre x/y in miles, spread x/y in miles).
CLUSTERS = (
    (69, (0.0, 0.0), (1.0, 3.6)),
    (61, (3.0, -7.0), (2.6, 2.6)),
    (71, (8.5, -1.0), (3.0, 3.0)),
    (43, (3.5, 7.5), (2.0, 2.0)),
    (21, (-7.0, -12.0), (2.2, 2.2)),
)
# Extra minutes for crossing between clusters (bridges, tunnels), symmetric.
CROSSING_MINUTES = np.array(
    [
        [0.0, 4.0, 3.2, 2.0, 7.2],
        [4.0, 0.0, 1.2, 4.8, 4.8],
        [3.2, 1.2, 0.0, 3.2, 7.2],
        [2.0, 4.8, 3.2, 0.0, 8.0],
        [7.2, 4.8, 7.2, 8.0, 0.0],
    ]
)
# P(DO | PU) ~ popularity(DO) * (miles**power * exp(-miles / near) + tail * exp(-miles / far))
GRAVITY = (1.55, 0.52, 0.031, 2.58)
SAME_ZONE_BOOST = 1.9  # real share of trips ending in their pickup zone: 12.6%
DETOUR = (1.25, 0.08)  # route / straight-line distance: mean, sd
TRIP_MILES_SIGMA = 0.2  # trip-to-trip lognormal spread of distance within a zone pair
TRIP_DETOUR = (0.12, 0.62)  # share of trips with a long detour, and its lognormal spread
# Clean duration (minutes) = (pair offset + MIN_PER_MILE * street_miles**MILES_POWER)
#                            * pair slowness * hour slowness * lognormal noise.
MIN_PER_MILE = 5.16
MILES_POWER = 0.76
HIGHWAY = (4.7, 0.48)  # miles beyond this count at this weight: long trips use faster roads
BASE_OFFSET_MINUTES = 0.32
ACCESS_MINUTES_SD = 3.0  # per-zone pick-up/drop-off access time (one-way streets, hubs)
MIN_OFFSET_MINUTES = 0.3
ZONE_SLOWNESS_SD = 0.12
CORE_SLOWNESS = 0.12  # dense core (cluster 0) is slower
PAIR_SLOWNESS_SD = 0.1
TRIP_NOISE_SIGMA = 0.2
HOUR_SLOWNESS = np.array(
    [0.86, 0.84, 0.83, 0.83, 0.85, 0.88, 0.94, 1.02, 1.08, 1.05, 1.02, 1.02,
     1.03, 1.05, 1.09, 1.12, 1.13, 1.11, 1.05, 0.99, 0.95, 0.93, 0.91, 0.88]
)  # fmt: skip
# Pickup hour and weekday (Monday first) profiles.
HOUR_SHARE = np.array(
    [17, 13, 10, 9, 7, 6, 15, 39, 47, 52, 53, 55, 56, 59, 65, 75, 76, 77, 77, 62, 47, 35, 28, 22],
    dtype=float,
)
WEEKDAY_WEIGHT = np.array([1.0, 1.05, 1.02, 1.05, 1.03, 0.88, 0.80])

# Share of all rows, per kind of dirty row.
NAN_BLOCK_RATE = 0.0634  # store_and_fwd_flag, RatecodeID, passenger_count, payment_type,
#                          trip_type and congestion_surcharge all missing together
NAN_BLOCK_VENDOR2 = 0.97
NAN_BLOCK_MINUTE_TIMESTAMPS = 0.97  # those rows carry whole-minute timestamps
ZERO_DURATION_RATE = 0.0009
SUB_MINUTE_RATE = 0.0232
NEGATIVE_DURATION_RATE = 0.0001  # none in the calibration month; other months have some
LONG_RATES = ((0.0052, 60.0, 180.0), (0.0014, 180.0, 1300.0), (0.0025, 1300.0, 1440.0))
SUB_MINUTE_ZERO_MILES = 0.67  # share of sub-minute trips with trip_distance 0
ZERO_MILES_RATE = 0.0329  # further rows with trip_distance 0 and a normal duration
ABSURD_MILES_RATE = 0.00054  # 100 .. ~120,000 miles, nearly all inside the NaN block
ABSURD_MILES_MAX = 120_100.0
OUT_OF_MONTH_RATE = 0.00006  # pickups years before or just outside the file's month
NEGATIVE_FARE_RATE = 0.0026
# Categorical columns outside the NaN block: (values, weights).
VENDOR2_SHARE = 0.856
STORE_AND_FWD_Y = 0.0048
RATECODE = ((1.0, 5.0, 2.0, 4.0, 3.0, 99.0), (62103, 1529, 158, 57, 30, 10))
PASSENGERS = (
    (1.0, 2.0, 5.0, 6.0, 3.0, 4.0, 0.0, 7.0, 8.0, 9.0),
    (54299, 5096, 1772, 1054, 958, 364, 336, 4, 2, 2),
)
PAYMENT = ((1.0, 2.0, 3.0, 4.0, 5.0), (40686, 22632, 472, 95, 2))
EXTRA = (
    (0.0, 2.5, 1.0, 2.75, 5.0, 0.5, 5.25, 7.5, 3.75, 6.0, 3.25),
    (5702, 1894, 1741, 246, 129, 96, 78, 45, 34, 13, 8),
)
MTA_TAX = ((0.5, 1.5, 0.0, 1.0), (8328, 1419, 249, 4))
IMPROVEMENT = ((1.0, 0.3, 0.0), (9362, 608, 30))
TOLLS = ((6.55, 3.0, 2.45, 14.75, 13.1), (1562, 91, 17, 10, 8))
CONGESTION_SURCHARGE = 2.75  # charged when the dropoff is in the core south of a cut-off
CONGESTION_CUT_Y = 6.0
NEGOTIATED_FARE = ((10.0, 15.0, 20.0, 25.0, 35.0, 55.0), (10, 20, 30, 15, 15, 10))
NAN_BLOCK_MTA_SHARE = 0.032
NAN_BLOCK_OLD_SURCHARGE = 0.018  # share of improvement_surcharge 0.3 (the pre-2023 rate)
TOLL_CHANCE = (0.074, 0.39, 0.13, 0.0065)  # NaN block, > 12 miles, > 5 miles, otherwise
VOID_MAX_SECONDS = 300


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


def _month_bounds(month: str) -> tuple[np.datetime64, np.datetime64]:
    """First second of the month and of the next month; rejects anything but YYYY-MM."""
    try:
        start = np.datetime64(month, "M")
    except ValueError as exc:
        raise ValueError(f"month must look like YYYY-MM, got {month!r}") from exc
    if len(month) != 7 or str(start) != month:
        raise ValueError(f"month must look like YYYY-MM, got {month!r}")
    return start.astype("datetime64[s]"), (start + 1).astype("datetime64[s]")


def _count(rate: float, n: int) -> int:
    """Exact row count for a dirty kind; at least one once a sample is big enough to show it."""
    return max(round(rate * n), 1 if n >= 1000 and rate > 0 else 0)


def _categorical(
    rng: np.random.Generator, values: tuple[float, ...], weights: tuple[float, ...], n: int
) -> np.ndarray:
    """Vectorised draw from a small weighted set of values."""
    cdf = np.cumsum(weights, dtype=float)
    index = np.searchsorted(cdf / cdf[-1], rng.random(n), side="right")
    return np.asarray(values, dtype=float)[np.minimum(index, len(values) - 1)]


def _pickup_seconds(
    rng: np.random.Generator, start: np.datetime64, end: np.datetime64, n: int
) -> np.ndarray:
    """Sorted pickup offsets (seconds from the month start) with weekday and hour profiles.

    Sorting uniforms before the inverse CDF yields sorted times directly, which is much cheaper
    than sorting every column afterwards.
    """
    days = int((end - start) // np.timedelta64(1, "D"))
    weekday = (np.arange(days) + start.astype("datetime64[D]").astype(np.int64) + 3) % 7
    weight = (WEEKDAY_WEIGHT[weekday][:, None] * HOUR_SHARE[None, :]).ravel()
    cdf = np.concatenate([[0.0], np.cumsum(weight) / weight.sum()])
    u = np.sort(rng.random(n))
    slot = np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, len(weight) - 1)
    within = (u - cdf[slot]) / (cdf[slot + 1] - cdf[slot])
    return slot * 3_600 + np.minimum((within * 3_600).astype(np.int64), 3_599)


def _disjoint_rows(
    rng: np.random.Generator, pool: int, n: int, rates: list[float]
) -> list[np.ndarray]:
    """Disjoint random sets of the first ``pool`` rows, sized as exact shares of all ``n``."""
    order = rng.permutation(pool)
    bounds = np.minimum(np.cumsum([0, *(_count(rate, n) for rate in rates)]), pool)
    return [order[a:b] for a, b in itertools.pairwise(bounds)]


@dataclass(frozen=True)
class Shift:
    """Data drift to apply to a month: longer trips, and a share of trips from another zone mix."""

    distance_scale: float = 1.0
    zone_mix: float = 0.0

    def __post_init__(self) -> None:
        if not self.distance_scale > 0:
            raise ValueError("distance_scale must be > 0")
        if not 0.0 <= self.zone_mix <= 1.0:
            raise ValueError("zone_mix must be between 0 and 1")


NO_SHIFT = Shift()
SHIFTED_ZONE_SEED = ZONE_SEED + 1  # the other zone popularity that --zone-mix draws from


def _shift_pairs(pair: np.ndarray, shift: Shift, seed: int, month: str) -> np.ndarray:
    """Redraw `shift.zone_mix` of the zone pairs from another popularity, on a separate stream."""
    if shift.zone_mix == 0.0:
        return pair
    other = zone_table(SHIFTED_ZONE_SEED)
    rng = np.random.default_rng([seed, int(month.replace("-", "")), 1])
    chosen = np.flatnonzero(rng.random(len(pair)) < shift.zone_mix)
    pick = rng.integers(0, len(other.pair_prob), len(chosen))
    keep = rng.random(len(chosen)) < other.pair_prob[pick]
    out = pair.copy()
    out[chosen] = np.where(keep, pick, other.pair_alias[pick])
    return out


def _generate_columns(
    month: str, rows: int, seed: int, shift: Shift = NO_SHIFT
) -> dict[str, np.ndarray]:
    """All columns but ehail_fee as numpy arrays (timestamps in µs, store flag as 0/1/-1)."""
    if rows < 0:
        raise ValueError("rows must be >= 0")
    start, end = _month_bounds(month)
    zones = zone_table()
    rng = np.random.default_rng([seed, int(month.replace("-", ""))])
    n = rows
    # Real files list the fully populated rows first, then the NaN block, each in pickup order.
    main = n - _count(NAN_BLOCK_RATE, n)
    nan_block = np.arange(n) >= main
    pickup = np.concatenate(
        [_pickup_seconds(rng, start, end, main), _pickup_seconds(rng, start, end, n - main)]
    )
    hour = pickup // 3_600 % 24

    # Clean trips: zone pair, distance around the pair's route length, duration from both.
    pick = rng.integers(0, len(zones.pair_prob), n)
    pair = np.where(rng.random(n) < zones.pair_prob[pick], pick, zones.pair_alias[pick])
    pair = _shift_pairs(pair, shift, seed, month)
    pu, do = pair // N_ZONES + 1, pair % N_ZONES + 1
    spread = np.where(rng.random(n) < TRIP_DETOUR[0], TRIP_DETOUR[1], TRIP_MILES_SIGMA)
    miles = zones.pair_miles[pair] * np.exp(spread * rng.standard_normal(n))
    if shift.distance_scale != 1.0:
        miles = miles * shift.distance_scale
    miles = np.maximum(np.round(miles, 2), 0.01)
    street_miles = np.minimum(miles, HIGHWAY[0]) + HIGHWAY[1] * np.maximum(miles - HIGHWAY[0], 0)
    minutes = zones.pair_offset[pair] + MIN_PER_MILE * street_miles**MILES_POWER
    minutes *= zones.pair_slowness[pair] * HOUR_SLOWNESS[hour]
    minutes *= rng.lognormal(0.0, TRIP_NOISE_SIGMA, n)
    duration = np.clip(np.round(minutes * 60), 60, 3_599).astype(np.int64)

    # Dirty rows, each kind with an exact share of the month.
    zero, sub, negative, *long, zero_miles = _disjoint_rows(
        rng,
        main,
        n,
        [
            ZERO_DURATION_RATE,
            SUB_MINUTE_RATE,
            NEGATIVE_DURATION_RATE,
            *(rate for rate, _, _ in LONG_RATES),
            ZERO_MILES_RATE,
        ],
    )
    duration[zero] = 0
    duration[sub] = np.minimum(1 + rng.exponential(15.0, len(sub)).astype(np.int64), 59)
    duration[negative] = -rng.integers(60, 3_600, len(negative))
    for rows_, (_, low, high) in zip(long, LONG_RATES, strict=True):
        duration[rows_] = np.round(rng.uniform(low, high, len(rows_)) * 60).astype(np.int64)
    short = np.concatenate([zero, sub])
    no_miles = rng.random(len(short)) < SUB_MINUTE_ZERO_MILES
    miles[short] = np.where(no_miles, 0.0, np.round(rng.uniform(0.01, 0.2, len(short)), 2))
    miles[zero_miles] = 0.0
    nan_rows = np.flatnonzero(nan_block)
    absurd = rng.choice(nan_rows, min(_count(ABSURD_MILES_RATE, n), len(nan_rows)), replace=False)
    log_miles = rng.uniform(np.log(100.0), np.log(ABSURD_MILES_MAX), len(absurd))
    miles[absurd] = np.round(np.exp(log_miles), 2)

    # Pickups outside the month: half years earlier, half just before or after it.
    strays = rng.choice(n, _count(OUT_OF_MONTH_RATE, n), replace=False)
    far, near = strays[: (len(strays) + 1) // 2], strays[(len(strays) + 1) // 2 :]
    pickup[far] -= rng.integers(5, 15, len(far)) * 365 * 86_400
    month_seconds = int((end - start) // np.timedelta64(1, "s"))
    pickup[near] = np.where(
        rng.random(len(near)) < 0.5,
        -rng.integers(3_600, 30 * 86_400, len(near)),
        month_seconds + rng.integers(60, 6 * 3_600, len(near)),
    )
    pickup_us = (start.astype(np.int64) + pickup) * 1_000_000
    dropoff_us = pickup_us + duration * 1_000_000
    whole_minutes = nan_block & (rng.random(n) < NAN_BLOCK_MINUTE_TIMESTAMPS)
    pickup_us[whole_minutes] -= pickup_us[whole_minutes] % 60_000_000
    dropoff_us[whole_minutes] -= dropoff_us[whole_minutes] % 60_000_000

    columns = _charges(rng, miles, duration, nan_block, zones.congestion_zone[do - 1])
    columns.update(
        {
            "lpep_pickup_datetime": pickup_us,
            "lpep_dropoff_datetime": dropoff_us,
            "PULocationID": pu.astype(np.int64),
            "DOLocationID": do.astype(np.int64),
            "trip_distance": miles,
        }
    )
    return {name: columns[name] for name in COLUMNS if name != "ehail_fee"}


def _charges(
    rng: np.random.Generator,
    miles: np.ndarray,
    duration: np.ndarray,
    nan_block: np.ndarray,
    congestion_zone: np.ndarray,
) -> dict[str, np.ndarray]:
    """Vendor, flags and every money column, consistent with distance and duration."""
    n = len(miles)
    vendor = np.where(rng.random(n) < VENDOR2_SHARE, 2, 1).astype(np.int64)
    vendor[nan_block] = np.where(rng.random(int(nan_block.sum())) < NAN_BLOCK_VENDOR2, 2, 1)
    store_and_fwd = (rng.random(n) < STORE_AND_FWD_Y).astype(np.int8)  # 0 = "N", 1 = "Y"
    ratecode = _categorical(rng, *RATECODE, n)
    passengers = _categorical(rng, *PASSENGERS, n)
    payment = _categorical(rng, *PAYMENT, n)
    trip_type = np.where((ratecode == 5.0) & (rng.random(n) < 0.9), 2.0, 1.0)
    trip_type[ratecode == 99.0] = np.nan

    # Metered fare on capped distance and time, so dirty rows do not explode the amounts.
    fare_miles = np.minimum(miles, 60.0)
    fare_minutes = np.clip(duration / 60.0, 0.0, 90.0)
    fare = np.round(3.0 + 3.5 * fare_miles + 0.35 * fare_minutes, 1)
    negotiated = _categorical(rng, *NEGOTIATED_FARE, n)
    fare = np.where(ratecode == 5.0, negotiated, fare)
    fare = np.where(ratecode == 2.0, 70.0, fare)
    fare = np.where((ratecode == 3.0) | (ratecode == 4.0), np.round(fare * 2, 1), fare)
    app_fare = (2.5 + 2.9 * fare_miles + 0.45 * fare_minutes) * rng.lognormal(0.0, 0.12, n)
    fare = np.where(nan_block, np.round(app_fare, 2), fare)

    extra = np.where(nan_block, 0.0, _categorical(rng, *EXTRA, n))
    block_mta = np.where(rng.random(n) < NAN_BLOCK_MTA_SHARE, 0.5, 0.0)
    mta_tax = np.where(nan_block, block_mta, _categorical(rng, *MTA_TAX, n))
    block_improvement = np.where(rng.random(n) < NAN_BLOCK_OLD_SURCHARGE, 0.3, 1.0)
    improvement = np.where(nan_block, block_improvement, _categorical(rng, *IMPROVEMENT, n))
    toll_chance = np.select([nan_block, miles > 12, miles > 5], TOLL_CHANCE[:3], TOLL_CHANCE[3])
    tolls = np.where(rng.random(n) < toll_chance, _categorical(rng, *TOLLS, n), 0.0)
    tipped = np.where(nan_block, rng.random(n) < 0.89, (payment == 1.0) & (rng.random(n) < 0.87))
    tip = np.where(tipped, np.round(fare * rng.uniform(0.12, 0.34, n), 2), 0.0)
    congestion = np.where(congestion_zone, CONGESTION_SURCHARGE, 0.0)

    # Voided trips: short ones with every charge negated, paid as "no charge" or "dispute".
    pool = np.flatnonzero(~nan_block & (duration >= 0) & (duration < VOID_MAX_SECONDS))
    voids = rng.choice(pool, min(_count(NEGATIVE_FARE_RATE, n), len(pool)), replace=False)
    for column in (fare, extra, mta_tax, improvement, congestion, tolls):
        column[voids] = -column[voids]
    tip[voids] = 0.0
    payment[voids] = np.where(rng.random(len(voids)) < 0.8, 3.0, 4.0)
    total = np.round(fare + extra + mta_tax + tip + tolls + improvement + congestion, 2)

    store_and_fwd[nan_block] = -1
    for column in (ratecode, passengers, payment, trip_type, congestion):
        column[nan_block] = np.nan
    return {
        "VendorID": vendor,
        "store_and_fwd_flag": store_and_fwd,
        "RatecodeID": ratecode,
        "passenger_count": passengers,
        "fare_amount": fare,
        "extra": extra,
        "mta_tax": mta_tax,
        "tip_amount": tip,
        "tolls_amount": tolls,
        "improvement_surcharge": improvement,
        "total_amount": total,
        "payment_type": payment,
        "trip_type": trip_type,
        "congestion_surcharge": congestion,
    }


def arrow_schema(
    id_type: str = "int64", ehail_type: str = "null", timestamp_unit: str = "us"
) -> pa.Schema:
    """The TLC green schema; defaults are the types of the calibration month."""
    fields = []
    for name in COLUMNS:
        if name in ID_COLUMNS:
            fields.append(pa.field(name, ID_TYPES[id_type]))
        elif name.startswith("lpep_"):
            fields.append(pa.field(name, pa.timestamp(timestamp_unit)))
        elif name == "store_and_fwd_flag":
            fields.append(pa.field(name, pa.string()))
        elif name == "ehail_fee":
            fields.append(pa.field(name, EHAIL_TYPES[ehail_type]))
        else:
            fields.append(pa.field(name, pa.float64()))
    return pa.schema(fields)


def generate_table(
    month: str,
    rows: int,
    seed: int = DEFAULT_SEED,
    *,
    id_type: str = "int64",
    ehail_type: str = "null",
    timestamp_unit: str = "us",
    shift: Shift = NO_SHIFT,
) -> pa.Table:
    """One synthetic month as an Arrow table with the requested (possibly drifted) types."""
    schema = arrow_schema(id_type, ehail_type, timestamp_unit)
    columns = _generate_columns(month, rows, seed, shift)
    arrays = []
    for field in schema:
        if field.name == "ehail_fee":
            arrays.append(pa.nulls(rows, field.type))
            continue
        values = columns[field.name]
        if field.name == "store_and_fwd_flag":
            flags = pa.DictionaryArray.from_arrays(
                pa.array(values, mask=values < 0, type=pa.int8()), pa.array(["N", "Y"])
            )
            arrays.append(flags.cast(pa.string()))
        elif field.name.startswith("lpep_"):
            arrays.append(pa.array(values, pa.timestamp("us")).cast(field.type))
        elif pa.types.is_floating(field.type):
            arrays.append(pa.array(values, field.type, from_pandas=True))
        else:
            arrays.append(pa.array(values, pa.int64()).cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def generate_month(
    month: str,
    rows: int,
    seed: int = DEFAULT_SEED,
    *,
    id_type: str = "int64",
    ehail_type: str = "null",
    timestamp_unit: str = "us",
    shift: Shift = NO_SHIFT,
) -> pd.DataFrame:
    """One synthetic month as a DataFrame, as pandas.read_parquet would return it."""
    types = {"id_type": id_type, "ehail_type": ehail_type, "timestamp_unit": timestamp_unit}
    return generate_table(month, rows, seed, **types, shift=shift).to_pandas()


def write_table(table: pa.Table, out: Path | str, compression_level: int = 3) -> Path:
    """Write parquet with fixed settings, so identical tables give byte-identical files.

    Timestamps use delta encoding (sorted pickups shrink to a few bytes each); everything else
    is dictionary-encoded; zstd on top. Level 3 is quick for big benchmark months.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    timestamps = [c for c in table.column_names if c.startswith("lpep_")]
    pq.write_table(
        table,
        out,
        compression="zstd",
        compression_level=compression_level,
        write_statistics=True,
        use_dictionary=[c for c in table.column_names if c not in timestamps],
        column_encoding=dict.fromkeys(timestamps, "DELTA_BINARY_PACKED"),
    )
    return out


def write_month(
    out: Path | str,
    month: str,
    rows: int,
    seed: int = DEFAULT_SEED,
    *,
    id_type: str = "int64",
    ehail_type: str = "null",
    timestamp_unit: str = "us",
    compression_level: int = 3,
    shift: Shift = NO_SHIFT,
) -> Path:
    """Generate one month and write it to ``out`` as parquet."""
    types = {"id_type": id_type, "ehail_type": ehail_type, "timestamp_unit": timestamp_unit}
    table = generate_table(month, rows, seed, **types, shift=shift)
    return write_table(table, out, compression_level)


def default_path(month: str, directory: Path = DATA_DIR) -> Path:
    """TLC file name for a month, e.g. data/green_tripdata_2023-01.parquet."""
    return directory / f"green_tripdata_{month}.parquet"


def write_defaults(directory: Path = DATA_DIR) -> list[Path]:
    """Rewrite the committed training and validation months (max zstd: they live in git)."""
    return [
        write_month(default_path(month, directory), month, rows, compression_level=19)
        for month, rows in DEFAULT_FILES.items()
    ]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Write synthetic TLC green-taxi months. Without --month: rewrite the "
        f"committed files in {DATA_DIR}/."
    )
    parser.add_argument("--month", help="month to generate, YYYY-MM")
    parser.add_argument("--out", type=Path, help="output parquet path (with --month)")
    parser.add_argument("--rows", type=int, help="number of trips (default 20000)")
    parser.add_argument("--seed", type=int, help=f"trip seed (default {DEFAULT_SEED})")
    parser.add_argument("--id-type", choices=sorted(ID_TYPES), help="default int64")
    parser.add_argument("--ehail-type", choices=sorted(EHAIL_TYPES), help="default null")
    parser.add_argument("--timestamp-unit", choices=TIMESTAMP_UNITS, help="default us")
    parser.add_argument(
        "--drift",
        action="store_true",
        help="mimic another month's schema: int32 ids and an all-null double ehail_fee",
    )
    parser.add_argument(
        "--distance-scale",
        type=float,
        help="data drift: multiply every trip's distance by this (default 1, no change)",
    )
    parser.add_argument(
        "--zone-mix",
        type=float,
        help="data drift: share of trips (0-1) drawn from another zone popularity (default 0)",
    )
    parser.add_argument("--compression-level", type=int, help="zstd level (default 3)")
    args = parser.parse_args(argv)
    options = (
        "rows",
        "seed",
        "id_type",
        "ehail_type",
        "timestamp_unit",
        "compression_level",
        "distance_scale",
        "zone_mix",
    )
    if args.month is None:
        if args.out is not None or args.drift or any(getattr(args, o) is not None for o in options):
            parser.error("--out, --rows, --seed and type options need --month")
        return args
    if args.out is None:
        parser.error("--month needs --out")
    try:
        _month_bounds(args.month)
    except ValueError as exc:
        parser.error(str(exc))
    if args.drift:
        args.id_type = args.id_type or "int32"
        args.ehail_type = args.ehail_type or "double"
    if args.rows is not None and args.rows < 0:
        parser.error("--rows must be >= 0")
    try:
        args.shift = Shift(
            1.0 if args.distance_scale is None else args.distance_scale,
            0.0 if args.zone_mix is None else args.zone_mix,
        )
    except ValueError as exc:
        parser.error(f"--{str(exc).replace('_', '-')}")
    return args


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the process exit code."""
    args = _parse_args(argv)
    if args.month is None:
        paths = write_defaults()
    else:
        path = write_month(
            args.out,
            args.month,
            20_000 if args.rows is None else args.rows,
            DEFAULT_SEED if args.seed is None else args.seed,
            id_type=args.id_type or "int64",
            ehail_type=args.ehail_type or "null",
            timestamp_unit=args.timestamp_unit or "us",
            compression_level=3 if args.compression_level is None else args.compression_level,
            shift=args.shift,
        )
        paths = [path]
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
