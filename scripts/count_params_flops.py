#!/usr/bin/env python3
"""Independent count of QEML-Net's parameters and FLOPs, written from the architecture
description in issue #2 (not from the .qir file), with the FLOP conventions of qemlc's op
declarations (Sources/QEMLIR/BaseOps.swift): a multiply-add counts 2; conv 2·out·(Cin/g)·k²,
batchnorm 2/elem, relu 1/elem, sigmoid and tanh 4/elem, add/mul/scale 1/elem, k×k pooling k²
per output, global and channel pooling 1 per input element, dense 2·in·out, softmax 5/elem,
circuit 2^n · 8 per gate. Parameters count every state_dict tensor element (BatchNorm running
statistics included, num_batches_tracked excluded).

Usage: python3 scripts/count_params_flops.py [edge|paper|tiny]
The numbers it prints are asserted by Tests/QEMLIRTests/CountTests.swift.
"""
import sys


class Counter:
    def __init__(self):
        self.params = 0
        self.flops = 0

    def conv(self, c, h, w, out, k, stride=1, pad=0):
        ho = (h + 2 * pad - k) // stride + 1
        wo = (w + 2 * pad - k) // stride + 1
        self.params += out * c * k * k
        self.flops += 2 * out * ho * wo * c * k * k
        return out, ho, wo

    def bn(self, c, h, w):
        self.params += 4 * c
        self.flops += 2 * c * h * w

    def elementwise(self, n, per=1):
        self.flops += per * n


def count(config):
    in_ch, size, stem, widths, blocks, ratio = {
        "edge": (1, 64, 64, [64, 128, 256, 512], [3, 4, 6, 3], 16),
        "paper": (3, 224, 64, [64, 128, 256, 512], [3, 4, 6, 3], 16),
        "tiny": (2, 32, 8, [4, 8, 8, 16], [1, 1, 1, 1], 8),  # two channels: signal and rectified
    }[config]
    m = Counter()
    # Stem: conv 7×7/2 pad 3, BN, ReLU, maxpool 3/2 pad 1.
    c, h, w = m.conv(in_ch, size, size, stem, 7, 2, 3)
    m.bn(c, h, w)
    m.elementwise(c * h * w)
    h, w = (h + 2 - 3) // 2 + 1, (w + 2 - 3) // 2 + 1
    m.flops += c * h * w * 9

    for s, (width, n) in enumerate(zip(widths, blocks)):
        for b in range(n):
            stride = 2 if (b == 0 and s > 0) else 1
            cin, hin, win = c, h, w
            out = 4 * width
            # conv1 1×1, bn1, relu; conv2 3×3/stride pad 1, bn2, relu; conv3 1×1, bn3
            _, h1, w1 = m.conv(cin, hin, win, width, 1)
            m.bn(width, h1, w1); m.elementwise(width * h1 * w1)
            _, h2, w2 = m.conv(width, h1, w1, width, 3, stride, 1)
            m.bn(width, h2, w2); m.elementwise(width * h2 * w2)
            _, h3, w3 = m.conv(width, h2, w2, out, 1)
            m.bn(out, h3, w3)
            hw = h3 * w3
            # CBAM channel attention: avg and max pools, shared MLP (C→C/r→C, no bias) twice,
            # add, sigmoid, multiply.
            hidden = out // ratio
            m.flops += 2 * out * hw                       # global avg + max pool
            m.params += 2 * hidden * out                  # fc1 + fc2 (shared by both paths)
            m.flops += 2 * (2 * hidden * out + hidden + 2 * out * hidden)  # two MLP passes incl. relu
            m.flops += out + 4 * out                      # add, sigmoid
            m.flops += out * hw                           # x * attention
            # Spatial attention: channel mean and max, concat, conv 7×7 pad 3 2→1, sigmoid, multiply.
            m.flops += 2 * out * hw
            m.params += 2 * 49
            m.flops += 2 * hw * 2 * 49
            m.flops += 4 * hw + out * hw
            # Shortcut: projection (conv 1×1/stride + BN) on each stage's first block.
            if b == 0:
                m.conv(cin, hin, win, out, 1, stride)
                m.bn(out, h3, w3)
            m.flops += out * hw + out * hw               # residual add, relu
            c, h, w = out, h3, w3

    m.flops += c * h * w                                  # global average pool → features
    features = c
    m.params += 4 * features + 4                          # fc: dense features→4
    m.flops += 2 * 4 * features + 4 * 4 + 4               # dense, tanh, scale by π
    gates = 4 + 6 * (4 + 3)                               # RY encoding + 6 × (4 Rot + 3 CNOT)
    m.params += 6 * 4 * 3
    m.flops += (1 << 4) * 8 * gates
    m.params += 8 * 4 + 8                                 # head: dense 4→8
    m.flops += 2 * 8 * 4 + 5 * 8                          # dense, softmax
    return m.params, m.flops


if __name__ == "__main__":
    configs = sys.argv[1:] or ["edge", "paper", "tiny"]
    for cfg in configs:
        p, f = count(cfg)
        print(f"{cfg}: parameters {p} ({p / 1e6:.3f} M), FLOPs per sample {f} ({f / 1e9:.4f} GFLOP)")
