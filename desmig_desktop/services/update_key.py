"""The public half of HQ's release signing key, built into the app.

An update is installed only if HQ's signature over its manifest verifies with this key. HQ
makes the pair once with ``desmig-hq release keygen --out DIR`` (the private key stays on the
HQ machine that publishes, never on the server or in this repository) and pastes the printed
public key here before building the bundle that goes to the field. Replacing it later orphans
every installed app: they would refuse all further updates.

The key below is a placeholder made for this repository; its private half was not kept, so an
app built with it installs no update until HQ's real key is put here. Tests inject their own
key through ``UpdateConfig`` (the composition root), never through this constant.
"""

from __future__ import annotations

import base64

RELEASE_PUBLIC_KEY = "moA/dG1jJXMPqB9hX1AxbAww4JL8FxVVctCPtAdSoGA="


def built_in_key() -> bytes:
    """The raw 32-byte Ed25519 public key."""
    raw = base64.b64decode(RELEASE_PUBLIC_KEY, validate=True)
    if len(raw) != 32:
        raise ValueError("RELEASE_PUBLIC_KEY is not a 32-byte Ed25519 key")
    return raw
