# Zbor: `make run` serves the demo site, `make test` runs the suite. Nothing else is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.dev

.PHONY: run test coverage lint bench bench-cluster quality screenshots install compilemessages makemessages clean check

$(BIN)/zbor: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Zbor needs Python 3.11 or newer (found $$($(PYTHON) --version))."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

install: $(BIN)/zbor

# Compiles locale/*/LC_MESSAGES/django.po with Babel, so GNU gettext is not needed to run Zbor.
compilemessages: install
	@$(BIN)/zbor compiletranslations

# Extracting strings needs GNU gettext (apt-get install gettext); only translators need this.
makemessages: install
	$(BIN)/zbor makemessages --all --no-location --no-obsolete --ignore='.venv/*' --ignore='build/*' --ignore='tests/*'

run: compilemessages
	$(BIN)/zbor migrate --no-input
	$(BIN)/zbor load_demo
	@echo ""
	@echo "  Zbor is running at http://127.0.0.1:$(PORT)/"
	@echo "  Staff sign-in (demo only): http://127.0.0.1:$(PORT)/$$($(BIN)/python -c 'import os;print(os.environ.get("ZBOR_ADMIN_PATH","backoffice").strip("/"))')/  users: demo, demo-reviewer  password: zbor-demo-only  casework passphrase: demo casework passphrase only"
	@echo ""
	@# The task worker (receipts, daily clean-ups) runs beside the server and stops with it. The
	@# server is granian, as in production (Django's runserver would be a hundred times slower).
	@$(BIN)/zbor run_huey --workers 1 --quiet & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/granian --interface wsgi --host 127.0.0.1 --port $(PORT) --workers 1 --blocking-threads 16 --no-ws config.wsgi:application

# Static checks, run before the tests: style and bugs (ruff check), one layout (ruff format),
# no high-severity security finding (bandit), types (mypy with django-stubs), the import contracts between
# the apps (lint-imports; .importlinter), and no function of radon complexity D or worse nor module over
# 400 lines (.ci/sizes.py). Their settings are in pyproject.toml.
lint: install
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/bandit --quiet --recursive zbor config --exclude '*/tests/*' --severity-level high
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/mypy
	$(BIN)/python .ci/sizes.py
	$(BIN)/lint-imports --no-cache

test: compilemessages lint
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite with line coverage of zbor/ (settings in pyproject.toml, [tool.coverage]); docs/testing.md.
coverage: compilemessages
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m pytest --cov=zbor --cov-report=term-missing:skip-covered $(PYTEST_ARGS)

bench: compilemessages
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The recommended production shape on this machine (PostgreSQL, Redis, nginx, two app servers, a
# task worker), installed with deploy/install.sh and upgraded under load with deploy/upgrade.sh,
# then checked end to end, in about four minutes: no failed request during the upgrade,
# exactly-once donations, freshness, receipts.
bench-cluster: compilemessages
	$(BIN)/python bench/cluster.py

# The public pages judged from outside: Lighthouse 12 (every category >= 0.95, phone and desktop) and
# axe-core (no serious or critical violation) in Debian's Chromium, versions pinned in
# bench/quality/package-lock.json (npm ci the first time). QUALITY_ARGS="--langs en" for a quick look.
quality: compilemessages
	$(BIN)/python bench/quality.py $(QUALITY_ARGS)

# The campaign page in four languages on a phone and a desktop, into docs/images/ (for people to look at).
screenshots: compilemessages
	$(BIN)/python bench/screenshots.py

check: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/zbor check
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/zbor makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles *.egg-info
