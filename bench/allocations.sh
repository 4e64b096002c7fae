#!/usr/bin/env bash
# Decoding a token must allocate nothing (the README's claim): counts malloc calls with an
# LD_PRELOAD shim during `depthscope bench --random` runs that decode 16 and 48 tokens, and
# fails if the 32 extra tokens cost 16 calls or more, for f32 and q8_0 at 1 and 2 threads.
#
#   bench/allocations.sh [DEPTHSCOPE_BINARY]      (default .build/release/depthscope)
#
# Use a release build: a debug build of the command-line target (the benchmark loop, not the
# engine, which is optimised in both) allocates about twice per token.
set -euo pipefail
binary="${1:-.build/release/depthscope}"
shim="$(mktemp -d)/count_malloc.so"
cat > "${shim%.so}.c" <<'C'
#include <stdatomic.h>
#include <stdio.h>
#include <stddef.h>
extern void *__libc_malloc(size_t);
static atomic_long calls;
void *malloc(size_t size) { atomic_fetch_add(&calls, 1); return __libc_malloc(size); }
__attribute__((destructor)) static void report(void) { fprintf(stderr, "malloc calls: %ld\n", (long)calls); }
C
compiler="$(command -v cc || command -v clang || command -v gcc)"
"$compiler" -O2 -shared -fPIC "${shim%.so}.c" -o "$shim"

count() {  # dtype threads tokens
    LD_PRELOAD="$shim" "$binary" bench --random 288x6x6x768 --dtype "$1" --threads "$2" --runs 1 \
        --tokens "$3" --prompt-tokens 4 2>&1 >/dev/null | sed -n 's/^malloc calls: //p'
}

status=0
for dtype in f32 q8_0; do
    for threads in 1 2; do
        short=$(count "$dtype" "$threads" 16)
        long=$(count "$dtype" "$threads" 48)
        # 32 more tokens: at one allocation per token that is 32 more calls. Start-up itself
        # varies by a call or two (thread timing), so half a call per token is the line.
        if [ -z "$short" ] || [ -z "$long" ] || [ $((long - short)) -ge 16 ]; then
            echo "allocations: $dtype, $threads thread(s): $short malloc calls decoding 16 tokens, $long decoding 48" >&2
            status=1
        else
            echo "allocations: $dtype, $threads thread(s): none per decoded token ($short and $long calls in all)"
        fi
    done
done
exit $status
