from __future__ import annotations

from tests.sync.fixtures import checker, hq_module, hq_server, hq_template, make_device, own_hq, scratch  # noqa: F401
