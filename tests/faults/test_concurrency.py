"""Several laptops pushing at once while another pulls over and over: the pull cursor never
skips a row (a row it skipped would never come back, and the final comparison would show it)."""

from __future__ import annotations

import threading

import pytest

from tests.sync.harness import VILLAGE_1, VILLAGE_2, Device
from tests.sync.invariants import InvariantChecker

pytestmark = pytest.mark.e2e


def test_concurrent_pushers_and_a_repeated_puller(hq_server, scratch, template_db):
    names = {"ana": VILLAGE_2, "budi": VILLAGE_1, "pusat": VILLAGE_1}
    devices: dict[str, Device] = {}
    errors: list[BaseException] = []
    pushing = threading.Event()
    pushing.set()

    def pusher(name: str) -> None:
        try:
            device = devices[name] = Device(scratch / name, name, template_db)
            device.login(hq_server, name)
            for round_ in range(6):
                for _ in range(3):
                    device.create_household(names[name], members=1)
                homes = device.live()
                device.edit("households", homes[round_ % len(homes)], notes=f"{name} {round_}")
                device.sync()
            device.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    def puller() -> None:
        try:
            device = devices["hq-reader"] = Device(scratch / "reader", "hq-reader", template_db)
            device.login(hq_server, "pusat")
            while pushing.is_set():
                device.engine().pull_all(device.engine().hello().scopes)
            device.close()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=pusher, args=(n,)) for n in names]
    reader = threading.Thread(target=puller)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pushing.clear()
    reader.join()
    assert not errors, errors
    # The reader only ever pulled while others pushed; one more pull must make it whole.
    reader_device = devices["hq-reader"]
    reader_device.engine().pull_all(reader_device.engine().hello().scopes)
    everyone = [devices[n] for n in names]
    for device in everyone:
        device.sync()
    checker = InvariantChecker(hq_server.db_path)
    checker.check([*everyone, reader_device], quiescent=True)
