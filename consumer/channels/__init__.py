"""One pure module per chat provider; see `base.Channel` for what each provides."""
