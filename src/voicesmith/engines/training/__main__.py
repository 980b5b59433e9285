"""`python -m voicesmith.engines.training JOB_DIR`: train one job."""

import sys

from voicesmith.engines.training.main import main

sys.exit(main())
