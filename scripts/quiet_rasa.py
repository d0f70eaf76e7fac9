"""The `rasa` command without the screenful of third-party DeprecationWarnings it prints on start.

PYTHONWARNINGS=ignore alone does not silence them: importing Sanic puts its own
`filterwarnings("once", DeprecationWarning)` in front of it. Importing Sanic first and filtering
after it restores quiet logs. Run `.venv/bin/rasa` directly to see the warnings.

    python -m scripts.quiet_rasa run --port 5005 ...    (same arguments as `rasa`)
"""

import importlib
import os
import sys
import warnings

# One BLAS thread, set before NumPy loads. A message's arithmetic is one row (the intent
# classifier, the knowledge ranking), too small to share out, yet OpenBLAS woke a thread per core
# for it, and their spinning doubled the CPU a parse took (17 ms of work cost 34 ms of CPU), on
# cores the action server and other learners' messages need. Measured in issue 19's note.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sanic  # noqa: F401  (imported first, so the filter below sits in front of Sanic's)

if sys.argv[1:3] != ["run", "actions"]:  # a command that loads the model
    # Before anything imports TensorFlow: on import, skops (the logistic-regression classifier's
    # loader) finds the module of each NumPy/SciPy type it trusts by walking sys.modules: 3 s
    # with few modules loaded, 10 s once TensorFlow's thousands are (measured on 2 cores).
    importlib.import_module("skops.io")

warnings.filterwarnings("ignore", category=DeprecationWarning)

# These warn (pyparsing deprecations) when first imported, and Rasa later lets UserWarnings
# through once: import them now, under the filter.
import matplotlib.fontconfig_pattern  # noqa: E402, F401
import packaging.requirements  # noqa: E402, F401
from rasa.__main__ import main  # noqa: E402  (after the filter, or its imports warn)

# Installs this project's fixes to Rasa (addons/__init__.py), checked against the installed Rasa
# here, at once, rather than when Rasa creates the tracker store (plain `rasa` gets them there).
import addons  # noqa: E402, F401

if __name__ == "__main__":
    sys.argv[0] = "rasa"
    sys.exit(main())
