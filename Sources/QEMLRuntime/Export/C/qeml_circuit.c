/*
 * qeml_circuit.c — the quantum circuit of an exported model, as the circuit planner scheduled it
 * (QEMLQuantum's StateVectorSchedule, the plan the JIT's compiled kernel runs): per sample, the
 * matrices of the input-dependent ops are built from the input row, then each cache-sized stage
 * gathers its amplitudes, runs its ops and scatters them back; then the measurements. Double
 * precision, PennyLane's conventions (wire 0 is the most significant bit of a basis index).
 * Circuits folded into observables never come here: they are kernels in <model>.o.
 *
 * The same in every export: the schedule is tables in <model>_runtime.c, its numbers (fixed
 * matrices and angles, the weights bound) a block of doubles in the weights.
 */
#include <math.h>
#include <string.h>

/* c = a . b for 2x2 complex matrices (interleaved re/im, row-major). */
static void sv_product2(const double *a, const double *b, double *c) {
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double re = 0, im = 0;
            for (int k = 0; k < 2; k++) {
                const double *x = a + 2 * (2 * i + k), *y = b + 2 * (2 * k + j);
                re += x[0] * y[0] - x[1] * y[1];
                im += x[0] * y[1] + x[1] * y[0];
            }
            c[2 * (2 * i + j)] = re;
            c[2 * (2 * i + j) + 1] = im;
        }
}

/* A 2x2 single-qubit gate (complex, interleaved re/im, row-major) into m[8]. */
static void sv_single(int gate, double a0, double a1, double a2, double *m) {
    static const double r = 0.70710678118654752440;
    const double c = cos(a0 / 2), s = sin(a0 / 2);
    double t[8] = {1, 0, 0, 0, 0, 0, 1, 0};
    switch (gate) {
    case QEML_GATE_RX: case QEML_GATE_CRX: { const double v[8] = {c, 0, 0, -s, 0, -s, c, 0}; memcpy(t, v, sizeof t); } break;
    case QEML_GATE_RY: case QEML_GATE_CRY: { const double v[8] = {c, 0, -s, 0, s, 0, c, 0}; memcpy(t, v, sizeof t); } break;
    case QEML_GATE_RZ: case QEML_GATE_CRZ: { const double v[8] = {c, -s, 0, 0, 0, 0, c, s}; memcpy(t, v, sizeof t); } break;
    case QEML_GATE_PHASESHIFT: { const double v[8] = {1, 0, 0, 0, 0, 0, cos(a0), sin(a0)}; memcpy(t, v, sizeof t); } break;
    case QEML_GATE_ROT: {
        /* Rot(phi, theta, omega) = RZ(omega) RY(theta) RZ(phi) */
        double z1[8], y[8], z2[8], zy[8];
        sv_single(QEML_GATE_RZ, a0, 0, 0, z1);
        sv_single(QEML_GATE_RY, a1, 0, 0, y);
        sv_single(QEML_GATE_RZ, a2, 0, 0, z2);
        sv_product2(z2, y, zy);
        sv_product2(zy, z1, t);
    } break;
    case QEML_GATE_H: { const double v[8] = {r, 0, r, 0, r, 0, -r, 0}; memcpy(t, v, sizeof t); } break;
    case QEML_GATE_X: case QEML_GATE_CNOT: { const double v[8] = {0, 0, 1, 0, 1, 0, 0, 0}; memcpy(t, v, sizeof t); } break;
    case QEML_GATE_Y: { const double v[8] = {0, 0, 0, -1, 0, 1, 0, 0}; memcpy(t, v, sizeof t); } break;
    case QEML_GATE_Z: case QEML_GATE_CZ: { const double v[8] = {1, 0, 0, 0, 0, 0, -1, 0}; memcpy(t, v, sizeof t); } break;
    case QEML_GATE_S: { const double v[8] = {1, 0, 0, 0, 0, 0, 0, 1}; memcpy(t, v, sizeof t); } break;
    case QEML_GATE_T: { const double v[8] = {1, 0, 0, 0, 0, 0, r, r}; memcpy(t, v, sizeof t); } break;
    default: break;
    }
    memcpy(m, t, sizeof t);
}

/* A gate's 2^k x 2^k matrix (k = 1 or 2; a two-qubit gate's control is its most significant bit). */
static void sv_gate(int gate, double a0, double a1, double a2, double *m) {
    const int two = gate == QEML_GATE_CNOT || gate == QEML_GATE_CZ || gate == QEML_GATE_SWAP
                 || gate == QEML_GATE_CRX || gate == QEML_GATE_CRY || gate == QEML_GATE_CRZ;
    if (!two) { sv_single(gate, a0, a1, a2, m); return; }
    for (int i = 0; i < 16; i++) { m[2 * i] = i % 5 == 0 ? 1.0 : 0.0; m[2 * i + 1] = 0.0; }
    if (gate == QEML_GATE_SWAP) {
        m[2 * 5] = 0; m[2 * 6] = 1; m[2 * 9] = 1; m[2 * 10] = 0;
        return;
    }
    double u[8];
    sv_single(gate, a0, a1, a2, u);
    /* |0><0| (x) I + |1><1| (x) U */
    m[20] = u[0]; m[21] = u[1]; m[22] = u[2]; m[23] = u[3];
    m[28] = u[4]; m[29] = u[5]; m[30] = u[6]; m[31] = u[7];
}

/* `g` with a zero bit inserted at each of `positions` (ascending). */
static long sv_insert_zeros(long g, const int *positions, int count) {
    for (int i = 0; i < count; i++) {
        const int p = positions[i];
        g = ((g >> p) << (p + 1)) | (g & ((1L << p) - 1));
    }
    return g;
}

static double sv_angle(int a, const double *data, const double *row) { return a >= 0 ? data[a] : row[-1 - a]; }

/* One op's matrix for this sample (StepMatrixProgram.evaluate): out[dimension^2] complex. */
static void sv_source_matrix(const qeml_circuit *c, const qeml_sv_source *s, const double *data, const double *row,
                             double *out, double *gate, double *column) {
    const int d = s->dimension;
    const qeml_sv_factor *first = c->factor + s->first_factor;
    if (s->single_gate) {
        sv_gate(first->gate, sv_angle(first->angles[0], data, row), sv_angle(first->angles[1], data, row),
                sv_angle(first->angles[2], data, row), out);
        return;
    }
    for (int i = 0; i < d * d; i++) { out[2 * i] = i % (d + 1) == 0 ? 1.0 : 0.0; out[2 * i + 1] = 0.0; }
    for (int fi = 0; fi < s->factors; fi++) {
        const qeml_sv_factor *f = first + fi;
        const double *m = data + 2 * (long)f->fixed;
        if (f->gate >= 0) {
            sv_gate(f->gate, sv_angle(f->angles[0], data, row), sv_angle(f->angles[1], data, row), sv_angle(f->angles[2], data, row), gate);
            m = gate;
        }
        const int n = f->n, *offsets = c->ints + f->first_offset, *bases = c->ints + f->first_base;
        /* out <- factor . out, column by column */
        for (int col = 0; col < d; col++) {
            for (int b = 0; b < f->bases; b++) {
                for (int j = 0; j < n; j++) {
                    const double *x = out + 2 * ((bases[b] + offsets[j]) * d + col);
                    column[2 * j] = x[0];
                    column[2 * j + 1] = x[1];
                }
                for (int i = 0; i < n; i++) {
                    double re = 0, im = 0;
                    for (int j = 0; j < n; j++) {
                        const double *e = m + 2 * (i * n + j), *x = column + 2 * j;
                        re += e[0] * x[0] - e[1] * x[1];
                        im += e[0] * x[1] + e[1] * x[0];
                    }
                    double *y = out + 2 * ((bases[b] + offsets[i]) * d + col);
                    y[0] = re;
                    y[1] = im;
                }
            }
        }
    }
}

/* y = M x on the `dim` amplitudes at base + offset[.] of every group. Called with a constant
   `dim` for the common sizes, so the compiler unrolls the small matrix-vector product. */
static inline void sv_groups(double *re, double *im, const double *mr, const double *mi, const long *offset,
                             const int *sorted, int k, long groups, const int dim) {
    double xr[1 << QEML_MAX_OP_QUBITS], xi[1 << QEML_MAX_OP_QUBITS];
    for (long g = 0; g < groups; g++) {
        const long base = sv_insert_zeros(g, sorted, k);
        for (int j = 0; j < dim; j++) { xr[j] = re[base + offset[j]]; xi[j] = im[base + offset[j]]; }
        for (int i = 0; i < dim; i++) {
            double accr = 0, acci = 0;
            for (int j = 0; j < dim; j++) {
                accr += mr[i * dim + j] * xr[j] - mi[i * dim + j] * xi[j];
                acci += mr[i * dim + j] * xi[j] + mi[i * dim + j] * xr[j];
            }
            re[base + offset[i]] = accr;
            im[base + offset[i]] = acci;
        }
    }
}

/* Applies an op to a buffer of 2^local amplitudes. */
static void sv_apply(const qeml_circuit *c, const qeml_sv_op *op, int local, const double *data, const double *coef,
                     double *re, double *im) {
    const int k = op->k, dim = 1 << k;
    double mr[1 << (2 * QEML_MAX_OP_QUBITS)], mi[1 << (2 * QEML_MAX_OP_QUBITS)];
    long offset[1 << QEML_MAX_OP_QUBITS];
    int sorted[QEML_MAX_OP_QUBITS];
    const int *entries = c->ints + op->first_entry;
    for (int i = 0; i < dim * dim; i++) {
        const double *v = entries[i] >= 0 ? data + 2 * (long)entries[i] : coef + 2 * (long)(-1 - entries[i]);
        mr[i] = v[0];
        mi[i] = v[1];
    }
    for (int r = 0; r < dim; r++) {
        offset[r] = 0;
        for (int t = 0; t < k; t++) if (r & (1 << (k - 1 - t))) offset[r] |= 1L << op->positions[t];
    }
    for (int t = 0; t < k; t++) sorted[t] = op->positions[t];
    for (int a = 1; a < k; a++)
        for (int b = a; b > 0 && sorted[b - 1] > sorted[b]; b--) { const int s = sorted[b]; sorted[b] = sorted[b - 1]; sorted[b - 1] = s; }
    const long groups = 1L << (local - k);
    switch (k) {
    case 1: sv_groups(re, im, mr, mi, offset, sorted, k, groups, 2); break;
    case 2: sv_groups(re, im, mr, mi, offset, sorted, k, groups, 4); break;
    case 3: sv_groups(re, im, mr, mi, offset, sorted, k, groups, 8); break;
    default: sv_groups(re, im, mr, mi, offset, sorted, k, groups, dim); break;
    }
}

/* The circuit on one sample: angles in[0 .. input_width), results out[0 .. output_padded) (padding zeroed).
   work: 3 * 2^qubits + 2 * 2^(widest stage) + 2 * coefficients + 2 * d^2 + 32 + 2 * d + input_width doubles,
   d the widest op matrix (ExportedModel's circuitWorkDoubles). */
static void qeml_circuit_run(const qeml_circuit *c, const double *data, const float *in, float *out, double *work) {
    const long amplitudes = 1L << c->qubits;
    int local = 0, dim = 1;
    for (int s = 0; s < c->stages; s++) if (c->stage[s].local > local) local = c->stage[s].local;
    for (int s = 0; s < c->sources; s++) if (c->source[s].dimension > dim) dim = c->source[s].dimension;
    double *re = work, *im = re + amplitudes, *probs = im + amplitudes, *br = probs + amplitudes, *bi = br + (1L << local);
    double *coef = bi + (1L << local), *matrix = coef + 2L * c->coefficients, *gate = matrix + 2L * dim * dim;
    double *column = gate + 32, *row = column + 2L * dim;
    for (int i = 0; i < c->input_width; i++) row[i] = (double)in[i];

    /* The per-sample coefficients: each input-dependent op's matrix, its variable entries kept. */
    for (int s = 0; s < c->sources; s++) {
        const qeml_sv_source *src = c->source + s;
        sv_source_matrix(c, src, data, row, matrix, gate, column);
        const int *pairs = c->ints + src->first_pair;
        for (int p = 0; p < src->pairs; p++) {
            coef[2 * pairs[2 * p + 1]] = matrix[2 * pairs[2 * p]];
            coef[2 * pairs[2 * p + 1] + 1] = matrix[2 * pairs[2 * p] + 1];
        }
    }

    for (long i = 0; i < amplitudes; i++) { re[i] = 0.0; im[i] = 0.0; }
    re[0] = 1.0;
    for (int s = 0; s < c->stages; s++) {
        const qeml_sv_stage *st = c->stage + s;
        const int *positions = c->ints + st->first_position;
        const long size = 1L << st->local, chunks = amplitudes >> st->local;
        const int contiguous = st->local == 0 || positions[st->local - 1] == st->local - 1;
        for (long chunk = 0; chunk < chunks; chunk++) {
            double *xr = re + chunk * size, *xi = im + chunk * size;
            const long base = contiguous ? 0 : sv_insert_zeros(chunk, positions, st->local);
            if (!contiguous) {
                /* Gather: local index j holds global base | (j's bits spread over the stage's positions). */
                xr = br;
                xi = bi;
                for (long j = 0; j < size; j++) {
                    long at = base;
                    for (int b = 0; b < st->local; b++) if (j & (1L << b)) at |= 1L << positions[b];
                    br[j] = re[at];
                    bi[j] = im[at];
                }
            }
            for (int o = 0; o < st->ops; o++) sv_apply(c, c->op + st->first_op + o, st->local, data, coef, xr, xi);
            if (!contiguous) {
                for (long j = 0; j < size; j++) {
                    long at = base;
                    for (int b = 0; b < st->local; b++) if (j & (1L << b)) at |= 1L << positions[b];
                    re[at] = br[j];
                    im[at] = bi[j];
                }
            }
        }
    }

    /* Measurements, in order. */
    const int *m = c->measure;
    int k = 0;
    for (int i = 0; i < c->measurements; i++) {
        const int kind = m[0], wires = m[1];
        const int *w = m + 2;
        if (kind == QEML_MEASURE_PROBS) {
            double *p = probs;
            for (long j = 0; j < (1L << wires); j++) p[j] = 0.0;
            for (long idx = 0; idx < amplitudes; idx++) {
                long j = 0;
                for (int b = 0; b < wires; b++) j = (j << 1) | ((idx >> (c->qubits - 1 - w[b])) & 1);
                p[j] += re[idx] * re[idx] + im[idx] * im[idx];
            }
            for (long j = 0; j < (1L << wires); j++) out[k++] = (float)p[j];
        } else {
            const long t = 1L << (c->qubits - 1 - w[0]);
            double sum = 0;
            for (long idx = 0; idx < amplitudes; idx++) {
                if (idx & t) continue;
                const long j = idx | t;
                if (kind == QEML_MEASURE_Z) sum += re[idx] * re[idx] + im[idx] * im[idx] - re[j] * re[j] - im[j] * im[j];
                else if (kind == QEML_MEASURE_X) sum += 2 * (re[idx] * re[j] + im[idx] * im[j]);
                else sum += 2 * (re[idx] * im[j] - im[idx] * re[j]);
            }
            out[k++] = (float)sum;
        }
        m += 2 + wires;
    }
    for (; k < c->output_padded; k++) out[k] = 0.0f;
}
