# Thin wrapper: the two commands a newcomer needs are `make demo` and `make test`.
# Everything real lives in CMakeLists.txt and scripts/.
BUILD      ?= build
TEST_BUILD ?= build-test
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build demo test check bench fuzz clean

all: build

deps:
	./scripts/install-deps.sh build

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DSQUALL_TESTS=OFF
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	./scripts/demo.sh $(BUILD)/squall

test:
	./scripts/install-deps.sh test
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSQUALL_SANITIZE=ON -DSQUALL_WERROR=ON
	cmake --build $(TEST_BUILD) -j$(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j$(JOBS)

check: test

bench:
	./scripts/install-deps.sh bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DSQUALL_TESTS=OFF
	cmake --build $(BUILD) -j$(JOBS)
	./bench/run.sh $(BUILD)/squall

fuzz:
	./scripts/install-deps.sh test
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DSQUALL_FUZZ=ON -DSQUALL_TESTS=OFF
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	./scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD)
