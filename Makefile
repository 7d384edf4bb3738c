# Two commands matter: `make run` (the terminal chat) and `make test` (everything CI checks).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LANGS := it en fr ar es sq uk ur zh bn

.PHONY: install install-prod run serve test test-sqlite lint typecheck imports pytest \
	pytest-sqlite pytest-postgresql postgresql-reachable i18n i18n-compile content-check clean

install: $(STAMP) i18n-compile
	@# The understanding of free text trains on the content once (some seconds), not at the
	@# first question; later starts read it from the cache until the content changes.
	$(BIN)/sportello content train

# A server's installation (deploy/README.md): the program and its compiled translations in .venv,
# without the developers' tools (ruff, mypy, pytest, playwright). Run it again after every update.
install-prod:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "Sportello needs Python 3.11 or newer: rm -rf $(VENV), then" \
			"make install-prod PYTHON=python3.11"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable .
	$(BIN)/pybabel --quiet compile --domain messages --directory locales

# The C reader of the content's YAML (optional) is built by the install: again when it changes.
$(STAMP): pyproject.toml setup.py bot/content/_yamlevents.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Compiled catalogs (.mo) are build products, never committed.
i18n-compile: $(STAMP)
	$(BIN)/pybabel --quiet compile --domain messages --directory locales

# Translators' workflow: extract strings from the code, merge them into every catalog, compile.
# No source locations in the catalogs: they would change with every edit of the code and make
# parallel branches conflict on every .po file.
i18n: $(STAMP)
	$(BIN)/pybabel extract --mapping-file babel.cfg --output-file locales/messages.pot \
		--project sportello --copyright-holder "Sportello contributors" \
		--add-comments TRANSLATORS: --sort-by-file --no-wrap --no-location bot
	for lang in $(LANGS); do \
		if [ -f locales/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update --input-file locales/messages.pot --domain messages \
				--output-dir locales --locale $$lang --ignore-obsolete --no-wrap \
				--ignore-pot-creation-date --no-fuzzy-matching; \
		else \
			$(BIN)/pybabel init --input-file locales/messages.pot --domain messages \
				--output-dir locales --locale $$lang --no-wrap; \
		fi; \
	done
	$(MAKE) i18n-compile

run: install
	$(BIN)/sportello chat

serve: install
	$(BIN)/sportello serve

content-check: install
	$(BIN)/sportello content check

lint: install
	$(BIN)/ruff check bot tests benchmarks
	$(BIN)/ruff format --check bot tests benchmarks

typecheck: install
	$(BIN)/mypy

imports: install
	$(BIN)/lint-imports

# The suite runs twice: on SQLite files, then on PostgreSQL (each test in a schema of its own
# in SPORTELLO_TEST_DB; the tests marked sqlite_only skip themselves there).
SPORTELLO_TEST_DB ?= postgresql://postgres@127.0.0.1:5432/test

pytest: pytest-sqlite pytest-postgresql

pytest-sqlite: install
	SPORTELLO_TEST_DB= $(BIN)/pytest

pytest-postgresql: install postgresql-reachable
	SPORTELLO_TEST_DB='$(SPORTELLO_TEST_DB)' $(BIN)/pytest

# One clear line, before minutes of tests, when the PostgreSQL half cannot run.
postgresql-reachable: install
	@$(BIN)/python -m tests.auxil.databases --reachable '$(SPORTELLO_TEST_DB)' || { \
		echo "PostgreSQL is not reachable at $(SPORTELLO_TEST_DB): start it (Debian:" \
			"pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start," \
			"with a database 'test' trusting postgres on 127.0.0.1), or run make test-sqlite"; \
		exit 1; }

test: postgresql-reachable lint typecheck imports pytest

# Without a PostgreSQL server: everything but the suite's PostgreSQL half.
test-sqlite: lint typecheck imports pytest-sqlite

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache tests/artifacts
	find locales -name '*.mo' -delete
