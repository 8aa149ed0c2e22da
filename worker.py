"""The Temporal worker entry point: runs Conclave's workflows and activities.

Not built yet: it arrives with durable runs (workflows/, activities/). Until then there is nothing to run.
"""

import sys

if __name__ == "__main__":
    sys.exit("worker.py: the Temporal worker is not built yet (see README, 'What works today')")
