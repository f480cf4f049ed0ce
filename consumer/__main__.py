"""`python -m consumer` is `webhook-consumer`."""

import sys

from consumer.cli import main

sys.exit(main())
