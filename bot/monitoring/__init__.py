"""The counter's monitoring: anonymous activity events, their statistics and reports."""
