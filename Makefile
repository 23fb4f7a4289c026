# JobWorker developer entry points. `make demo` and `make test` work on a fresh machine:
# they start (and if needed install) the local PostgreSQL and RabbitMQ first.
SHELL := /bin/bash
CONFIGURATION ?= Release
JOBWORKER := Worker/bin/$(CONFIGURATION)/net10.0/jobworker
# The packages' version. Each `make pack` gets one of its own, the version in Directory.Build.props with a build suffix
# (0.13.0-dev.20261203201500), so a package restored before under the same number can never stand in for the one just
# packed. `make pack VERSION=0.13.0` packs a release.
BASE_VERSION := $(shell sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
ifeq ($(origin VERSION),undefined)
VERSION := $(BASE_VERSION)-dev.$(shell date -u +%Y%m%d%H%M%S)
endif
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

# The packages a team's own host or service references (JobWorker, JobWorker.Contracts, JobWorker.Client), into
# artifacts/, all of version $(VERSION); the packages of earlier packs
# are removed first. artifacts/JobWorker.Version.props records the version, and the samples restore exactly it.
# PackageVersion, not Version: the assemblies stay as built, so packing rebuilds nothing.
pack:
	rm -f artifacts/*.nupkg artifacts/*.snupkg
	dotnet pack JobWorker.sln -c $(CONFIGURATION) --nologo -v quiet -p:PackageVersion=$(VERSION)
	printf '<Project>\n  <PropertyGroup>\n    <JobWorkerVersion>%s</JobWorkerVersion>\n  </PropertyGroup>\n</Project>\n' '$(VERSION)' > artifacts/JobWorker.Version.props

# samples/ReportHost and samples/OrderApi, built as a user builds them: against the packed packages from artifacts/, not the source, of exactly
# the version just packed (JobWorkerVersion). NuGet caches a package by id and version: a release version packed again
# would be restored from the cache, so its cached copies are dropped first.
NUGET_PACKAGES ?= $(HOME)/.nuget/packages
sample: pack
	rm -rf $(foreach id,jobworker jobworker.contracts jobworker.client,$(NUGET_PACKAGES)/$(id)/$(VERSION))
	dotnet build samples/ReportHost/ReportHost.csproj -c $(CONFIGURATION) --nologo -v quiet -p:JobWorkerVersion=$(VERSION)
	dotnet build samples/OrderApi/OrderApi.csproj -c $(CONFIGURATION) --nologo -v quiet -p:JobWorkerVersion=$(VERSION)

# Every wait in the suite is bounded; the hang timeout is the last line of defence. The sample host's test runs the
# sample built from the packages; the dashboard's tests run in Chromium; the cluster test uses nodes 2 and 3. The output
# is kept in artifacts/test-output.log, and a failed run ends by listing its failed tests again with their messages, so
# the last lines of a long CI log say what failed.
# The services start (about 40 s from cold: PostgreSQL and three RabbitMQ nodes, mostly waiting) while the
# solution builds; a service that fails to start fails the target once the build is done.
test: browser
	@( $(MAKE) --no-print-directory services-cluster ) & services=$$!; \
	$(MAKE) --no-print-directory build; built=$$?; \
	wait $$services || { echo "make test: the services did not start (see above)" >&2; exit 1; }; \
	[ $$built -eq 0 ] || exit $$built
	$(MAKE) --no-print-directory sample
	mkdir -p artifacts
	set -o pipefail; dotnet test JobWorker.sln -c $(CONFIGURATION) --no-build --nologo \
		--logger "console;verbosity=normal" --blame-hang-timeout 5m 2>&1 | tee artifacts/test-output.log \
		|| { deploy/local/failed-tests.sh artifacts/test-output.log; exit 1; }

# Figures, not assertions: throughput against the database ceiling, and the connection economy against the
# design JobWorker replaces. Prints tables and charts, and writes bench-results.json.
bench: services build
	$(JOBWORKER) bench --output bench-results.json

clean:
	dotnet clean JobWorker.sln -c $(CONFIGURATION) --nologo -v quiet
