"""Support code shared by the tests and the benchmarks (never installed, never bundled).

Importable from a checkout only: ``pyproject.toml`` packages neither this package nor ``tests``
or ``bench``, and ``packaging/desmig.spec`` excludes it from the officer's bundle.
"""
