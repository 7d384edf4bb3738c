"""This package contains the content catalog: loading, validating and searching ``content/``."""
