"""Suite-wide set-up: caches go to a temporary folder, never to the user's ~/.cache."""
from __future__ import annotations

import os
import tempfile


def pytest_configure(config):
    os.environ["AUTOPRESET_CACHE"] = tempfile.mkdtemp(prefix="autopreset-test-cache-")
    # Offline everywhere we run tests: never wait on a hub for pretrained weights.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
