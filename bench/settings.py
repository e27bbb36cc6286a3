"""The wallet's own settings, with a URLconf that adds the benchmarks' baseline views.

For benchmarks that serve the wallet under a real WSGI server and need a baseline served by the
same server, in the same run (`bench/consent.py`). Nothing else differs from `wallet.settings`.
"""

from wallet.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
