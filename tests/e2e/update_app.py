"""The ``desmig`` command as a test install runs it: ``cli.main`` with an injected ``UpdateConfig``.

Usage: ``python update_app.py ROOT VERSION PUBLIC_KEY_B64 [desmig args...]``. The test's own key
and install folder reach the app through its composition root (``cli.main(updates=...)``), never
through an environment variable the production code would read.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from desmig_desktop.cli import main
from desmig_desktop.services.update_install import UpdateConfig

if __name__ == "__main__":
    root, version, key, *args = sys.argv[1:]
    sys.exit(main(args, updates=UpdateConfig(Path(root).resolve(), version, base64.b64decode(key))))
