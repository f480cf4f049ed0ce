"""`webhook-consumer schemas [--out DIR]`: write the JSON Schemas of the contracts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from consumer.schemas import json_schemas, render_schema


def main(args: argparse.Namespace) -> int:
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, schema in json_schemas().items():
            path = out / name
            path.write_bytes(render_schema(schema))
            print(path)
    except OSError as exc:
        print(f"webhook-consumer schemas: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0
