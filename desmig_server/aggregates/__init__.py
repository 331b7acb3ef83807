"""Report aggregates maintained from the change feed: every report level reads at most
one row per area instead of every record.

Design (the why is in ``desmig_server/README.md``, "Report aggregates"):

* ``maintain``: a watermark over ``server_seq``. Everything past it (changed records, move-out
  notices) names the villages to recompute; each dirty village's row is recomputed from its
  records by the same SQL as the full report (``reports.queries``), districts, regencies,
  provinces and the nation are summed again from the level below. Medians keep a value multiset
  per area (``area_values``), updated by differences, so any area's median is exact.
* ``read``: the report from those rows (HQ: rows of the asked level; officers and supervisors:
  their villages' rows summed).
* ``verify``: compares every stored area with a recomputation from the records.
"""
