# Thin entry points; the logic lives in local/ (Python), ansible/ and roles/ (Ansible), tests/.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export CONTAINERS_CONF := $(CURDIR)/local/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# `make up SCALE="app=2 airflow_worker=2"`: hosts per scalable group (local/config.py); a
# later `make up` keeps the last scale until `make down`.
ifdef SCALE
export MLOPS_REPLICA_SCALE := $(SCALE)
endif

.PHONY: help prereqs venv locks wheelhouse up down status test unit lint molecule e2e bench drills clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

prereqs: ## Install podman, runc, debootstrap, python3-venv (apt) when missing
	@$(PYTHON) -m local.prereqs

$(VENV)/.installed: pyproject.toml requirements.txt dags/requirements.txt $(wildcard api/requirements/*.txt) | prereqs
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

venv: $(VENV)/.installed ## Create the controller's virtualenv with the pinned tools

locks: venv ## Re-resolve the services' locks (roles/*/files/requirements-py*.lock) whose pins changed
	$(PY) -m local locks

wheelhouse: venv ## Download the locked wheels the hosts install from into ~/.cache/mlops-platform
	$(PY) -m local wheelhouse

up: venv ## Build the local hosts and apply the playbooks
	$(PY) -m local up
	$(VENV)/bin/ansible-playbook ansible/site.yml
	@$(PY) -m local urls

down: venv ## Remove the local hosts (PURGE=1 also removes their data)
	$(PY) -m local down $(if $(PURGE),--purge)

status: venv ## Show the local hosts
	$(PY) -m local status

# Unit and lint tests on every core (a module per worker), then the containers' tests, which
# spread over the cores themselves (molecule scenarios two at once, the replica's hosts).
XDIST := -n auto --dist loadfile

test: venv ## Run the whole suite: unit, lint, molecule, end-to-end on a test replica
	$(PY) -m pytest -m "not molecule and not replica" $(XDIST)
	$(PY) -m pytest -m "molecule or replica"

unit: venv ## Fast tests only: no containers
	$(PY) -m pytest -m "not lint and not molecule and not replica" $(XDIST)

lint: venv ## ruff, yamllint, ansible-lint (production profile)
	$(PY) -m pytest -m lint

molecule: venv ## molecule test of every role
	$(PY) -m pytest -m molecule

e2e: venv ## End-to-end checks on a replica the suite builds (MLOPS_E2E_SCALE="airflow_worker=1 app=2": scaled out)
	$(PY) -m pytest -m replica

bench: venv ## Measure the running replica (make up first): bench/results/*.json, bench/README.md
	$(PY) -m bench $(ARGS)

drills: venv ## Break the running replica and measure recovery: bench/results/drills-*.json
	$(PY) -m bench.drills $(ARGS)

clean: ## Remove the virtualenv and caches kept in the repository
	rm -rf $(VENV) .pytest_cache .ruff_cache
