# Cells: build, test, demo, bench. Everything a target needs it installs itself.
GO        ?= go
BUILD     ?= build
BINS      := cellman cellctl
GOFLAGS_B := -trimpath -ldflags=-s
PKGS      := ./...
# Debian packages the suite and the demo use (installed when missing, as root).
DEBS      := busybox rsyslog mandoc crun prometheus hyperfine

.PHONY: all build test demo bench lint cross deps vet fmt-check unit man-lint clean

all: build

build:
	@mkdir -p $(BUILD)
	@for b in $(BINS); do CGO_ENABLED=0 $(GO) build $(GOFLAGS_B) -o $(BUILD)/$$b ./bin/$$b || exit 1; done

deps:
	@sh scripts/deps.sh $(DEBS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	GOOS=netbsd GOARCH=amd64 $(GO) vet $(PKGS)

cross:
	CGO_ENABLED=0 GOOS=netbsd GOARCH=amd64 $(GO) build $(PKGS)
	CGO_ENABLED=0 GOOS=netbsd GOARCH=arm64 $(GO) build $(PKGS)
	CGO_ENABLED=0 GOOS=netbsd GOARCH=amd64 $(GO) test -c -o /dev/null ./testscripts

man-lint:
	@for m in $$(git ls-files '*.[0-9]'); do mandoc -Tlint -W warning $$m || exit 1; done

lint: fmt-check vet man-lint

unit:
	$(GO) test -count=1 -timeout 15m $(PKGS)

test: deps fmt-check vet cross man-lint unit

bench: deps build
	@sh scripts/bench.sh

demo: deps build
	@sh scripts/demo.sh

clean:
	rm -rf $(BUILD)
