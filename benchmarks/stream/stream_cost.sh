#!/usr/bin/env bash
# Per-hop cost of the exported streaming API against a one-shot inference, and the real-time
# factor, for the edge model (initial weights: the cost does not depend on them) at its default
# hop (a quarter window in whole STFT hops), in one process with the weights loaded once:
#   bash benchmarks/stream/stream_cost.sh > benchmarks/stream/stream_cost.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
Q=.build/release/qemlc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$Q init-weights examples/qemlnet-edge.qir --seed 1 -o "$work/edge.safetensors" >/dev/null
$Q export examples/qemlnet-edge.qir --weights "$work/edge.safetensors" -o "$work/edge" >/dev/null
cat > "$work/edge/cost.c" <<'C'
#define _POSIX_C_SOURCE 199309L
#include "qemlnet-edge.h"
#include <math.h>
#include <stdio.h>
#include <time.h>
#define SECONDS 20
static float signal[SECONDS * QEMLNET_EDGE_SAMPLE_RATE];
static int windows, frames;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static void count(const qemlnet_edge_stream_result *r, void *u) { (void)u; windows++; frames += r->frames_computed; }
int main(void) {
    for (int i = 0; i < SECONDS * QEMLNET_EDGE_SAMPLE_RATE; i++) signal[i] = 0.3f * sinf(0.01f * i) + 0.1f * sinf(1.3f * i);
    qemlnet_edge_context *ctx = qemlnet_edge_create(NULL, 0);
    if (qemlnet_edge_load_weights_file(ctx, "qemlnet-edge.weights") != QEMLNET_EDGE_OK) return 1;
    double best_shot = 1e9, best_hop = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t = now();
        for (int i = 0; i < 20; i++) qemlnet_edge_run_signal(ctx, signal + i * 1000, QEMLNET_EDGE_SIGNAL_LENGTH);
        const double shot = (now() - t) / 20;
        windows = frames = 0;
        qemlnet_edge_stream_init(ctx, 0);
        t = now();
        qemlnet_edge_stream_push(ctx, signal, SECONDS * QEMLNET_EDGE_SAMPLE_RATE, count, NULL);
        const double hop = (now() - t) / windows;
        if (shot < best_shot) best_shot = shot;
        if (hop < best_hop) best_hop = hop;
    }
    printf("edge model, exported for this host, 1 thread; hop %u samples (%.3f s), %d windows in %d s, %d STFT frames per window on average\n",
           QEMLNET_EDGE_STREAM_HOP_DEFAULT, (double)QEMLNET_EDGE_STREAM_HOP_DEFAULT / QEMLNET_EDGE_SAMPLE_RATE, windows, SECONDS, frames / windows);
    printf("one-shot inference %.2f ms; per hop %.2f ms = %.2f x one-shot (best of 3)\n", best_shot * 1e3, best_hop * 1e3, best_hop / best_shot);
    printf("real-time factor at that hop: %.3f\n", best_hop / ((double)QEMLNET_EDGE_STREAM_HOP_DEFAULT / QEMLNET_EDGE_SAMPLE_RATE));
    qemlnet_edge_destroy(ctx);
    return 0;
}
C
cc -O2 -std=c11 -fno-math-errno -o "$work/edge/cost" "$work/edge/cost.c" "$work/edge/qemlnet-edge_runtime.c" "$work/edge/qemlnet-edge.o" -lm
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
(cd "$work/edge" && ./cost)
