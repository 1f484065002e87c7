"""One synthetic month's trips, column by column: pickups by weekday and hour, zone pairs,
distances and durations, the dirty rows of a real month, the charges, and the optional drift."""

import itertools
from dataclasses import dataclass

import numpy as np

from green_taxi.sample_shape import (
    ABSURD_MILES_MAX,
    ABSURD_MILES_RATE,
    COLUMNS,
    CONGESTION_SURCHARGE,
    EXTRA,
    HIGHWAY,
    HOUR_SHARE,
    HOUR_SLOWNESS,
    IMPROVEMENT,
    LONG_RATES,
    MILES_POWER,
    MIN_PER_MILE,
    MTA_TAX,
    N_ZONES,
    NAN_BLOCK_MINUTE_TIMESTAMPS,
    NAN_BLOCK_MTA_SHARE,
    NAN_BLOCK_OLD_SURCHARGE,
    NAN_BLOCK_RATE,
    NAN_BLOCK_VENDOR2,
    NEGATIVE_DURATION_RATE,
    NEGATIVE_FARE_RATE,
    NEGOTIATED_FARE,
    OUT_OF_MONTH_RATE,
    PASSENGERS,
    PAYMENT,
    RATECODE,
    STORE_AND_FWD_Y,
    SUB_MINUTE_RATE,
    SUB_MINUTE_ZERO_MILES,
    TOLL_CHANCE,
    TOLLS,
    TRIP_DETOUR,
    TRIP_MILES_SIGMA,
    TRIP_NOISE_SIGMA,
    VENDOR2_SHARE,
    VOID_MAX_SECONDS,
    WEEKDAY_WEIGHT,
    ZERO_DURATION_RATE,
    ZERO_MILES_RATE,
    ZONE_SEED,
)
from green_taxi.sample_zones import zone_table


def month_bounds(month: str) -> tuple[np.datetime64, np.datetime64]:
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


def generate_columns(
    month: str, rows: int, seed: int, shift: Shift = NO_SHIFT
) -> dict[str, np.ndarray]:
    """All columns but ehail_fee as numpy arrays (timestamps in µs, store flag as 0/1/-1)."""
    if rows < 0:
        raise ValueError("rows must be >= 0")
    start, end = month_bounds(month)
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
