"""The one thing pyproject.toml cannot say yet without an experimental table: a C extension.

The content's YAML is read in C from libyaml's events (bot/content/_yamlevents.c, used by
bot/content/yamlfile.py). It is built where libyaml's headers (Debian's libyaml-dev) and a C
compiler are; it is optional, since without it the same reading is done in Python, twice as
slow on a large content.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "bot.content._yamlevents",
            sources=["bot/content/_yamlevents.c"],
            libraries=["yaml"],
            optional=True,
        )
    ]
)
