# Paperboy: `make run` for the site + worker + beat, `make test` for the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test venv lint format demo clean

# The venv is rebuilt whenever a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-semantic.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

demo: venv
	@$(BIN)/python manage.py migrate --noinput
	@$(BIN)/python manage.py setup_schedules
	@$(BIN)/python manage.py load_demo

# honcho gives each process a PORT of its own (web, web+100, ...): email links, built by the
# worker, follow the site's port through SITE_PORT.
run: demo
	@echo ""
	@echo "  Site:   http://127.0.0.1:$(PORT)/"
	@echo "  Admin:  http://127.0.0.1:$(PORT)/admin/  (log in as admin / admin)"
	@echo "  Outbox: http://127.0.0.1:$(PORT)/dev/outbox/  (every email the app sends)"
	@echo ""
	@PORT=$(PORT) SITE_PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start

test:
	@bin/describe-env
	@$(MAKE) --no-print-directory venv
	@bin/ensure-browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var staticfiles
