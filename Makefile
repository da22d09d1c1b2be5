# The README's commands. Each bootstraps .venv on a fresh machine (Debian, Python 3.11).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: serve test venv test-deps chromium bench check clean i18n-extract i18n-update i18n-compile

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
	PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py

test: test-deps chromium i18n-compile
	$(BIN)/python -m pytest -n 2 -q

check: venv
	$(BIN)/wizard check flows/*.yaml

bench: test-deps chromium
	$(BIN)/python bench/engine_speed.py
	$(BIN)/python bench/request_speed.py
	$(BIN)/python bench/page_weight.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
