# The two commands of the README, plus helpers.
.PHONY: demo test install constraints schema audit

demo:  ## install everything, create the SQLite database with demo data, serve on :5000
	bash scripts/install.sh
	.venv/bin/cardio demo

test:  ## the whole test suite (installs what it needs, starts its own MariaDB)
	bash scripts/test.sh $(ARGS)

install:
	bash scripts/install.sh

constraints:  ## re-pin constraints.txt after changing pyproject.toml
	bash scripts/install.sh
	{ head -n 2 constraints.txt; .venv/bin/pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt

schema:  ## regenerate schema.sql from the models
	.venv/bin/cardio schema-sql

audit:  ## known vulnerabilities in the pinned packages (pip-audit; needs internet)
	bash scripts/install.sh
	.venv/bin/pip-audit --requirement constraints.txt --disable-pip --no-deps --progress-spinner off
