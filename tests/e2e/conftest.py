from tests.sync.fixtures import checker, hq_server, hq_module, hq_template, make_device, own_hq, scratch  # noqa: F401
