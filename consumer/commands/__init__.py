"""One module per CLI command, each with `main(args: argparse.Namespace) -> int`."""
