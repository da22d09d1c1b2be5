# The README's commands. Each bootstraps .venv on a fresh machine (Debian, Python 3.11).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium
NGINX ?= /usr/sbin/nginx
# Resume links and QR codes are built from this origin, never from the Host header
# (docs/deploy.md); locally that is the address `make serve` listens on.
WIZARD_PUBLIC_ORIGIN ?= http://127.0.0.1:$(PORT)

.PHONY: serve test venv test-deps chromium nginx wrk bench check clean \
	i18n-extract i18n-update i18n-compile

# Installed marker: re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed
test-deps: $(VENV)/.test-installed

# Browser tests drive Debian's chromium; Playwright cannot download its own browser here.
# fonts-noto-cjk: Chinese in screenshots; without it pages still work but show boxes.
chromium:
	@{ test -x $(CHROMIUM) && dpkg -s fonts-noto-cjk >/dev/null 2>&1; } || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# The deployed shape (docs/deploy.md) puts Debian's nginx in front of gunicorn, and
# tests/browser/test_deployed.py starts its own nginx on free ports. The package would start a
# service on port 80 during the install (and fail the install when that port is taken), so a
# policy-rc.d refuses service starts while it installs, unless the machine already has one.
nginx:
	@test -x $(NGINX) || { \
		set -e; \
		if [ ! -e /usr/sbin/policy-rc.d ]; then \
			trap 'rm -f /usr/sbin/policy-rc.d' EXIT; \
			printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; \
			chmod 755 /usr/sbin/policy-rc.d; \
		fi; \
		apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

# bench/load.py drives gunicorn with wrk (Debian's package; it uses LuaJIT for bench/load.lua).
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq wrk >/dev/null; }

# Interface catalogs: extract msgids into the template, merge into each language, compile.
# The .mo files are built, not committed: serve and test compile them.
i18n-extract: venv
	$(BIN)/pybabel extract -F pyproject.toml -k N_ --no-location --sort-output \
		--project wizard --msgid-bugs-address "" -o locales/messages.pot .

i18n-update: i18n-extract
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete

i18n-compile: venv
	$(BIN)/pybabel compile -d locales --use-fuzzy --statistics 2>&1 | grep -v "^$$" || true

serve: venv i18n-compile
	$(BIN)/wizard init-db
	$(BIN)/wizard import
	PORT=$(PORT) WIZARD_PUBLIC_ORIGIN=$(WIZARD_PUBLIC_ORIGIN) $(BIN)/gunicorn -c gunicorn.conf.py

test: test-deps chromium nginx i18n-compile
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

check: venv
	$(BIN)/wizard check flows/*.yaml

# load.py serves the app as `serve` does, beside a bare Flask app, and loads both with wrk
# for about 2 minutes; it prints PASS/FAIL against issue 13's goals but never fails the target.
bench: test-deps chromium wrk i18n-compile
	$(BIN)/python bench/engine_speed.py
	$(BIN)/python bench/request_speed.py
	$(BIN)/python bench/page_weight.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
