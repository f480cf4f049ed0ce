"""One module per benchmark scenario; each returns plain dicts that `bench.report` prints."""
