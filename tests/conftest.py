import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# Each test run gets its own compile cache unless one is given, so results never
# depend on what an earlier run left behind.
os.environ.setdefault("MATX_NB_CACHE", tempfile.mkdtemp(prefix="matx_nb_cache_"))
