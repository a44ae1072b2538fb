"""``python -m clinic_cli ...`` is ``clinic-env ...`` (for a venv whose scripts are not on PATH)."""

import sys

from clinic_cli.main import main

sys.exit(main())
