# JobWorker developer entry points. `make demo` and `make test` work on a fresh machine:
# they start (and if needed install) the local PostgreSQL and RabbitMQ first.
SHELL := /bin/bash
CONFIGURATION ?= Release
JOBWORKER := Worker/bin/$(CONFIGURATION)/net10.0/jobworker
VERSION := $(shell sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

.PHONY: build services services-cluster browser services-down migrate demo test bench pack sample clean

build:
	dotnet build JobWorker.sln -c $(CONFIGURATION) --nologo -v quiet

services:
	deploy/local/services.sh up

# The suite's services: PostgreSQL, and RabbitMQ as a three-node cluster whose node 1 is the single node the other tests
# use (AMQP 35672); the cluster test finds nodes 2 and 3 on 35772 and 35872.
services-cluster: services
	deploy/local/services.sh up rabbitmq-cluster

# Debian's Chromium, which the dashboard's browser tests drive through Playwright.
browser:
	deploy/local/browser.sh

services-down:
	deploy/local/services.sh down

migrate: services build
	$(JOBWORKER) migrate

# Fails when the EF model has changes that no migration covers; add one with
# `dotnet ef migrations add <Name> --project Worker`. dotnet-ef comes from .config/dotnet-tools.json; it diffs the model
# against the snapshot and needs no database. `make test` leaves it to the suite, whose
# MigrationHistoryTests.Model_has_no_changes_that_no_migration_covers asks EF the same question in process.
.PHONY: migrations-check
migrations-check: build
	dotnet tool restore
	dotnet ef migrations has-pending-model-changes --project Worker --configuration $(CONFIGURATION) --no-build

demo: services build
	deploy/demo.sh $(JOBWORKER)

# The packages a team's own host references: JobWorker and JobWorker.Contracts, into artifacts/.
pack:
	dotnet pack JobWorker.sln -c $(CONFIGURATION) --nologo -v quiet

# samples/ReportHost, built as a user builds it: against the packed packages from artifacts/, not the source. NuGet
# caches a package by id and version, so the copies of this version restored before are dropped first.
NUGET_PACKAGES ?= $(HOME)/.nuget/packages
sample: pack
	rm -rf $(NUGET_PACKAGES)/jobworker/$(VERSION) $(NUGET_PACKAGES)/jobworker.contracts/$(VERSION)
	dotnet build samples/ReportHost/ReportHost.csproj -c $(CONFIGURATION) --nologo -v quiet

# Every wait in the suite is bounded; the hang timeout is the last line of defence. The sample host's test runs the
# sample built from the packages; the dashboard's tests run in Chromium; the cluster test uses nodes 2 and 3.
# The services start (about 40 s from cold: PostgreSQL and three RabbitMQ nodes, mostly waiting) while the
# solution builds; a service that fails to start fails the target once the build is done.
test: browser
	@( $(MAKE) --no-print-directory services-cluster ) & services=$$!; \
	$(MAKE) --no-print-directory build; built=$$?; \
	wait $$services || { echo "make test: the services did not start (see above)" >&2; exit 1; }; \
	[ $$built -eq 0 ] || exit $$built
	$(MAKE) --no-print-directory sample
	dotnet test JobWorker.sln -c $(CONFIGURATION) --no-build --nologo \
		--logger "console;verbosity=normal" --blame-hang-timeout 5m

# Figures, not assertions: throughput against the database ceiling, and the connection economy against the
# design JobWorker replaces. Prints tables and charts, and writes bench-results.json.
bench: services build
	$(JOBWORKER) bench --output bench-results.json

clean:
	dotnet clean JobWorker.sln -c $(CONFIGURATION) --nologo -v quiet
