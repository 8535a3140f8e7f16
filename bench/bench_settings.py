"""Settings for the benchmarks: the application's own settings with a bench-only URLconf that adds a bare page.

DEBUG stays off (as in production: no query log kept in memory). Used by bench_pages.py and bench_load.sh.
"""

import os

os.environ.setdefault("MIBG_DEBUG", "1")  # a local key file and local hosts; DEBUG itself is switched off below

from mibg.web.settings import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench_urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
