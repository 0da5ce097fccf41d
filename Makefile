# CohortLab: `make demo` starts the demo hub, `make test` runs the whole suite.
# Everything a fresh machine needs is installed from here (Debian packages with
# apt, Python packages into .venv, npm packages into local node_modules).

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STATE ?= .demo
NAME ?=
STAMP := $(VENV)/.cohortlab-installed
LOCK := requirements.lock
LABEXT_MODULES := extensions/labextension/node_modules/.package-lock.json
LABEXT_SRC := $(shell find extensions/labextension/src extensions/labextension/style widgets -type f) extensions/labextension/package.json
OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: setup demo test bench lint format clean system-deps browser-deps names reachable lock audit

# The demo's public name; every person's server and the service get a subdomain of it.
PUBLIC_HOST ?= hub.localhost

# Debian's Python (not the root-only pyenv build): servers run as other accounts.
system-deps:
	@test -x /usr/bin/python3 && /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || \
	  { $(APT_GET) update -qq && $(APT_GET) install -y -qq python3 python3-venv; }
	@command -v npm >/dev/null || { $(APT_GET) update -qq && $(APT_GET) install -y -qq nodejs npm; }

$(PY): | system-deps
	/usr/bin/python3 -m venv $(VENV)

# Every Python package comes from requirements.lock, pinned with its hashes (`make lock`
# writes it from pyproject.toml, complete: so pip installs exactly it, resolving nothing,
# and `pip check` confirms it holds together; resolving again let Debian's pip 23 look for
# a newer release of a package wanted with an extra, and refuse it as unpinned); npm
# packages from the package-lock.json files, with `npm ci`. The package itself is then
# installed without resolving anything.
$(LABEXT_MODULES): extensions/labextension/package.json extensions/labextension/package-lock.json
	cd extensions/labextension && npm ci --no-audit --no-fund
	touch $@

$(STAMP): $(PY) pyproject.toml $(LOCK) $(LABEXT_SRC) $(LABEXT_MODULES)
	$(PIP) install -q --require-hashes --no-deps -r $(LOCK)
	$(PIP) check
	cd extensions/labextension && PATH=$(abspath $(VENV))/bin:$$PATH npm run build
	HATCH_JUPYTER_BUILDER_SKIP_NPM=1 $(PIP) install -q --no-deps --no-build-isolation -e .
	touch $@

$(OVERRIDES): hub_config/lab-overrides.json | $(STAMP)
	install -D -m 644 $< $@

hub_config/node_modules/.bin/configurable-http-proxy: hub_config/package.json hub_config/package-lock.json
	cd hub_config && npm ci --no-audit --no-fund
	touch $@

setup: $(STAMP) $(OVERRIDES) hub_config/node_modules/.bin/configurable-http-proxy

# Chromium, and an emoji font so screenshots show the panel's icons as people see them.
browser-deps:
	@test -x /usr/bin/chromium -a -d /usr/share/fonts/truetype/noto || { $(APT_GET) update -qq && \
		$(APT_GET) install -y -qq chromium fonts-noto-color-emoji; }

# The demo people's servers run as other accounts: a clone they cannot reach (in a 0700 home)
# stops here at once with one line saying why (hub_config/reachable.py, which seed.py uses too).
reachable: system-deps
	@/usr/bin/python3 hub_config/reachable.py $(VENV)

# Per-user origins: *.hub.localhost must resolve to loopback for every process (not only
# Chromium); stops at once with one line saying what to do when it cannot be made so.
names:
	@hub_config/check_names.sh $(PUBLIC_HOST)

# COHORTLAB_DEMO_SETUP=1: once the hub is up, its service cohortlab-demo-setup makes the cohort
# workspaces and has the learners submit hw1 (hub_config/demo_setup.py; idempotent).
demo: reachable names setup
	$(PY) hub_config/seed.py --state-dir $(STATE)
	@echo
	@echo "  CohortLab demo hub: http://$(PUBLIC_HOST):8000  (http://127.0.0.1:8000 redirects there)"
	@echo "  Each person's server and the CohortLab service run on their own subdomain of it."
	@echo "  Log in as ada, ben, cy, dee, eli, fay (learners), mentor or instructor,"
	@echo "  password: $${COHORTLAB_DEMO_PASSWORD:-demo}. Stop with Ctrl-C."
	@echo "  When the log says 'demo setup: ready' (a minute or two), the cohort workspaces"
	@echo "  and the learners' hw1 submissions are in place: see 'Try it' in README.md."
	@echo
	cd $(STATE) && COHORTLAB_DEMO_SETUP=1 COHORTLAB_STATE_DIR=$(abspath $(STATE)) \
	  exec $(abspath $(VENV))/bin/jupyterhub -f $(abspath hub_config/jupyterhub_config.py)

# Two workers (pytest-xdist), one test file each at a time: each worker starts its own hub
# and Chromium when its first test needs them. TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
test: reachable names setup browser-deps
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: setup
	$(PY) tests/benchmarks/run.py $(NAME)

# After a change to pyproject.toml's dependencies: pins them all again, with hashes.
lock: setup
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
	  --generate-hashes --custom-compile-command 'make lock' -q -o $(LOCK)

# Known vulnerabilities in the pinned packages (pip-audit, npm audit): exit 1 on a finding,
# 2 when the advisories could not be reached ("not audited" is no pass). Not part of `make test`.
audit: setup
	$(PY) tools/audit.py

lint: setup
	$(VENV)/bin/ruff check extensions tests hub_config tools
	$(VENV)/bin/ruff format --check extensions tests hub_config tools

format: setup
	$(VENV)/bin/ruff format extensions tests hub_config
	$(VENV)/bin/ruff check --fix extensions tests hub_config

clean:
	rm -rf $(VENV) hub_config/node_modules extensions/labextension/node_modules \
	  extensions/labextension/lib extensions/cohortlab/labextension $(STATE)
