# Thin wrappers over CMake/CTest. `make demo` and `make test` are the whole set-up on a
# fresh Debian 12 machine (as root, or with sudo).
JOBS ?= 2
BUILD := build
ASAN := build-asan
FUZZ := build-fuzz
TSAN := build-tsan
FUZZ_SECONDS ?= 20
# The live lab runs (sim against anycastd processes in real time) mostly wait for their
# scenario's clock: four at a time, after the rest, which runs one per core.
LIVE_JOBS ?= 4

.PHONY: all deps build asan tsan fuzz test unit demo demo-live bench package format clean

all: build

deps:
	./scripts/install-deps all

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS) --target unit_tests anycastd anycastctl

# The proxy's and the runtime's threaded tests under ThreadSanitizer.
tsan: deps
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS)

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

# Everything CI runs: unit + interop (+ e2e/lab as they land) on the release build, the
# unit tests again under ASan+UBSan, and a bounded fuzz run.
test: build asan tsan fuzz
	ctest --test-dir $(BUILD) -LE live -j $(JOBS) --output-on-failure
	ctest --test-dir $(BUILD) -L live -j $(LIVE_JOBS) --output-on-failure
	ctest --test-dir $(ASAN) -L 'unit|soak' -j $(JOBS) --output-on-failure
	ctest --test-dir $(TSAN) -L race -j $(JOBS) --output-on-failure
	FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --test-dir $(FUZZ) -L fuzz -j $(JOBS) --output-on-failure

unit: build
	ctest --test-dir $(BUILD) -L unit -j $(JOBS) --output-on-failure

# A .deb of anycastd, anycastctl, the systemd unit and /etc/anycastd/anycastd.yaml.
package: build
	cd $(BUILD) && cpack -G DEB
	@ls $(BUILD)/anycastd_*.deb

# The seed-004 lab scenario in virtual time: MSEE tables, failover and failback, and an
# HTML report. demo-live runs the same picture with BIRD and two anycastd processes.
demo: build
	./build/apps/anycast-lab examples/lab/seed-004.yaml --report build/demo-report.html

demo-live: build
	./scripts/demo

bench: build
	./build/bench/bench_codec --benchmark_min_time=0.5
	./bench/lab

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN) $(TSAN) $(FUZZ)
