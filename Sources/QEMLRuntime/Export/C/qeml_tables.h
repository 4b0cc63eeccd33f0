/*
 * qeml_tables.h — the shapes of the tables qemlc generates for one model (<model>_runtime.c fills
 * them, the fixed qeml_*.c files read them). The same in every export.
 */
#ifndef QEML_TABLES_H
#define QEML_TABLES_H

#include <stdint.h>

/* A generated kernel (in <model>.o): items [begin, end) of one sample, over the step's buffers. */
typedef void (*qeml_kernel_fn)(float *const *buffers, const float *params, int64_t begin, int64_t end);

enum { QEML_STEP_KERNEL = 0, QEML_STEP_CIRCUIT = 1 };
/* The most buffers a step passes (Swift checks every step against it). */
#define QEML_MAX_BUFFERS 16

/* One step of the plan, in order. */
typedef struct {
    int kind;                 /* QEML_STEP_* */
    qeml_kernel_fn kernel;    /* KERNEL: the generated function */
    int items;                /* KERNEL: items per sample; CIRCUIT: the circuit's index */
    long block;               /* byte offset of the step's weight block in the payload, or -1 */
    int first, buffers;       /* its buffers' arena offsets (floats): step_offsets[first .. first + buffers) */
} qeml_step;

/* An output: where it is in the arena (blocked), and its plain size per sample. */
typedef struct {
    long offset;
    int channels, hw;
} qeml_output;

/* ---- circuits: the state-vector schedule of the circuit planner (StateVectorSchedule) ---- */

/* Gates, in QEMLIR's GateKind order. */
enum {
    QEML_GATE_RX, QEML_GATE_RY, QEML_GATE_RZ, QEML_GATE_ROT, QEML_GATE_PHASESHIFT,
    QEML_GATE_H, QEML_GATE_X, QEML_GATE_Y, QEML_GATE_Z, QEML_GATE_S, QEML_GATE_T,
    QEML_GATE_CNOT, QEML_GATE_CZ, QEML_GATE_SWAP, QEML_GATE_CRX, QEML_GATE_CRY, QEML_GATE_CRZ
};
/* The widest op a schedule may hold (Swift checks). */
#define QEML_MAX_OP_QUBITS 5
/* Measurements: X, Y or Z expectation of one wire, or the probabilities of a list of wires. */
enum { QEML_MEASURE_X = 0, QEML_MEASURE_Y = 1, QEML_MEASURE_Z = 2, QEML_MEASURE_PROBS = 3 };

/* A dense 2^k x 2^k complex matrix on k bit positions of a stage's buffer (positions[0] is the
   matrix index's most significant bit). Entry e of entries[first_entry ..]: e >= 0 is the
   constant complex number data[2e], data[2e + 1] (the circuit's weight block, doubles);
   e < 0 is the per-sample coefficient -1 - e. */
typedef struct {
    int k;
    int positions[QEML_MAX_OP_QUBITS];
    int first_entry;
} qeml_sv_op;

/* A cache-sized stage: `local` global bit positions (ascending, from stage_positions[first_position]),
   gathered into a buffer, then ops [first_op, first_op + ops) run over it. */
typedef struct {
    int local, first_position, first_op, ops;
} qeml_sv_stage;

/* One factor of an input-dependent op's matrix (StepMatrixProgram): a gate of angles
   (a >= 0: data[a]; a < 0: input column -1 - a), or a fixed matrix (gate < 0) at data[2 * fixed].
   It acts on `n` basis states at block offsets ints[first_offset ..], for each base in
   ints[first_base .. first_base + bases). */
typedef struct {
    int gate, fixed;
    int angles[3];
    int n, first_offset, first_base, bases;
} qeml_sv_factor;

/* How to build one sample's coefficients of an op: its matrix (dimension^2, from the factors, or
   the single gate directly), then pairs (matrix entry, coefficient) at ints[first_pair ..]. */
typedef struct {
    int dimension, single_gate;
    int first_factor, factors;
    int first_pair, pairs;
} qeml_sv_source;

typedef struct {
    int qubits, input_width, output_width, output_padded;
    int stages;
    const qeml_sv_stage *stage;
    const qeml_sv_op *op;
    int coefficients;
    int sources;
    const qeml_sv_source *source;
    const qeml_sv_factor *factor;
    const int *ints;          /* stage positions, entries, factor offsets and bases, pairs */
    int measurements;
    const int *measure;       /* per measurement: kind, wire count, wires */
} qeml_circuit;

#endif
