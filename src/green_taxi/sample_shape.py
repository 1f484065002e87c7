"""What one real TLC green month looks like, reduced to the constants the synthetic sample is
drawn from (calibrated on summary statistics only; see `make_sample`). No row is kept."""

import numpy as np

ZONE_SEED = 20_230_101
N_ZONES = 265

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

# The TLC green schema's columns, in the files' order.
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
