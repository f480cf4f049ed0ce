"""`webhook-consumer run`: the service."""

from __future__ import annotations

import argparse
import sys

from consumer.config import load_settings


def main(_args: argparse.Namespace) -> int:
    load_settings()  # a bad environment fails here, naming the variable
    print("webhook-consumer run: not implemented yet", file=sys.stderr)
    return 2
