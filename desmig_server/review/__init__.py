"""The supervisors' and HQ's review desk: what the web pages act on and read.

Storage-side only (no HTML): conflict resolution with a third value, data quality per village, the
read-only household view, user administration, and the admin log every action of these writes.
"""
