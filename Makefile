# The only entry point: build, test, run, bench. See README.md.
#   make            release build into bin/
#   make test       deps + ASan/UBSan build + cmocka unit tests + bats e2e tests
#   make run-localcluster   start localcluster on 127.0.0.1:6443 (kubeconfig in ./localcluster.kubeconfig)
#   make bench      benchmarks (never part of make test)
#   make fuzz       build libFuzzer targets (clang) into build/fuzz/

CC       ?= gcc
PKGS     := libuv jansson yaml-0.1 libcurl openssl libproc2
# http_parser ships no .pc file in Debian: plain -lhttp_parser.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lm
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

MODE     ?= rel
BUILD    ?= build/$(MODE)
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
ifeq ($(MODE),san)
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
BINDIR   := $(BUILD)/bin
else
OPT      := -O2 -g
BINDIR   := bin
endif
override CFLAGS += -std=c17 -D_GNU_SOURCE $(WARN) $(OPT) -Iinternal -I. $(PKG_CFLAGS) -MMD -MP
override LDFLAGS += $(OPT)

LIB_SRCS := $(sort $(wildcard internal/*/*.c api/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libproject.a
CMDS     := $(notdir $(wildcard cmd/*))
BINS     := $(CMDS:%=$(BINDIR)/%)
UNIT_SRCS := $(sort $(wildcard test/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:test/unit/%.c=$(BUILD)/test/%)
# test/unit/support/*.c: harness code shared by the unit tests, linked into every one
UNIT_SUPPORT_SRCS := $(sort $(wildcard test/unit/support/*.c))
UNIT_SUPPORT_OBJS := $(UNIT_SUPPORT_SRCS:%.c=$(BUILD)/obj/%.o)
# test/tools/*.c: helper programs the e2e tests drive (not run as unit tests)
TOOL_SRCS := $(sort $(wildcard test/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:test/tools/%.c=$(BUILD)/tools/%)

.PHONY: all deps test unit e2e san run-localcluster bench fuzz clean format
# keep the objects of cmd/*/main.c and test/tools (make would delete them as intermediates)
.SECONDARY:
all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BINDIR)/%: $(BUILD)/obj/cmd/%/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(LIB) $(PKG_LIBS) -o $@

# the kubelet's container launcher is exec'd once per container, and the task-executor's idle
# RSS is a target (<= 2 MiB): link only the shared libraries they use
$(BINDIR)/localcluster-launch: override LDFLAGS += -Wl,--as-needed
$(BINDIR)/task-executor: override LDFLAGS += -Wl,--as-needed
# ... and libuv, jansson and http_parser are linked into it statically: each shared library costs
# the idle executor RSS (libuv alone ~190 KiB mapped) and costs every dispatch a load in the shim
# (the executor re-exec'd: ~0.3 ms for the three). libproc2 is dlopen'ed by the shim when needed.
$(BINDIR)/task-executor: PKG_LIBS = -Wl,-Bstatic -luv_a -ljansson -lhttp_parser -Wl,-Bdynamic \
	-lpthread -ldl -lm

$(BUILD)/tools/%: $(BUILD)/obj/test/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(LIB) $(PKG_LIBS) -o $@

$(BUILD)/test/%: $(BUILD)/obj/test/unit/%.o $(UNIT_SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(UNIT_SUPPORT_OBJS) $(LIB) $(PKG_LIBS) $(CMOCKA_LIBS) -o $@

unit-bins: $(UNIT_BINS) $(TOOL_BINS)

deps:
	@bash scripts/deps.sh

# The sanitized build used by tests lives in build/san/.
san:
	@$(MAKE) --no-print-directory MODE=san all unit-bins

test: deps
	@$(MAKE) --no-print-directory MODE=san all unit-bins
	@bash scripts/run-tests.sh

unit:
	@$(MAKE) --no-print-directory MODE=san all unit-bins
	@SKIP_E2E=1 bash scripts/run-tests.sh

e2e:
	@$(MAKE) --no-print-directory MODE=san all
	@SKIP_UNIT=1 bash scripts/run-tests.sh

run-localcluster: all
	./bin/localcluster --listen 127.0.0.1:6443 --kubeconfig-out localcluster.kubeconfig

bench: all
	@bash bench/run.sh

fuzz:
	@bash scripts/build-fuzz.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

-include $(LIB_OBJS:.o=.d) $(UNIT_SRCS:test/unit/%.c=$(BUILD)/obj/test/unit/%.d) \
	$(UNIT_SUPPORT_OBJS:.o=.d) \
	$(TOOL_SRCS:test/tools/%.c=$(BUILD)/obj/test/tools/%.d)
