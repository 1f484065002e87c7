"""The example plug-in's tests use the synthetic TLC months of `support.tlc`."""

from support.tlc import set_ride_fixture, tlc_frame, tlc_month, tlc_schema, trip_records

__all__ = ["set_ride_fixture", "tlc_frame", "tlc_month", "tlc_schema", "trip_records"]
