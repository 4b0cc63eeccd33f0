/// The text of `targets/*.target`, compiled in so qemlc needs no files at run time.
/// Generated from the folder; `TargetTests` checks that both stay identical.
enum BuiltInTargets {
    static let files: [(file: String, text: String)] = [
        ("x86-64-v2.target", #"""
# Any x86-64 since Nehalem: SSE4.2, no AVX, no FMA.
name = x86-64-v2
description = x86-64 with SSE4.2 (4-lane vectors, no FMA)
triple = x86_64-unknown-linux-gnu
cpu = x86-64-v2
features = +sse4.2,+popcnt
vector_width = 4
vector_registers = 16
l1 = 32K
l2 = 256K
l3 = 8M
flops_per_cycle = 16
clock_ghz = 2.75
"""#),
        ("x86-64-avx2.target", #"""
# Haswell and later: AVX2 + FMA, 16 ymm registers, two 8-lane FMA units.
name = x86-64-avx2
description = x86-64 with AVX2 and FMA (8-lane vectors)
triple = x86_64-unknown-linux-gnu
cpu = x86-64-v3
features = +avx2,+fma,+f16c,+bmi2
vector_width = 8
vector_registers = 16
l1 = 32K
l2 = 1M
l3 = 32M
flops_per_cycle = 32
clock_ghz = 2.75
"""#),
        ("x86-64-avx512.target", #"""
# Skylake-SP and later Xeons: AVX-512F, 32 zmm registers, two 16-lane FMA units.
name = x86-64-avx512
description = x86-64 with AVX-512 (16-lane vectors, 32 registers)
triple = x86_64-unknown-linux-gnu
cpu = skylake-avx512
features = +avx512f,+avx512dq,+avx512bw,+avx512vl,+avx2,+fma
vector_width = 16
vector_registers = 32
l1 = 32K
l2 = 1M
l3 = 32M
flops_per_cycle = 64
clock_ghz = 2.75
"""#),
        ("aarch64-neon.target", #"""
# Raspberry-Pi-4-class boards (Cortex-A72; A76 is the same class): NEON, 32 128-bit registers.
name = aarch64-neon
description = 64-bit Arm with NEON (4-lane vectors), Cortex-A72/A76 class
triple = aarch64-unknown-linux-gnu
cpu = cortex-a72
features = +neon,+fp-armv8
vector_width = 4
vector_registers = 32
l1 = 32K
l2 = 1M
l3 = 0
flops_per_cycle = 8
clock_ghz = 1.8
"""#),
        ("aarch64-neon-dotprod.target", #"""
# Armv8.2+ cores with the dot-product extension (Cortex-A55/A76/A78, Neoverse N1, Apple M1…):
# NEON plus sdot/udot for int8 kernels, 32 128-bit registers.
name = aarch64-neon-dotprod
description = 64-bit Arm with NEON and the dot-product extension (4-lane vectors, sdot), Cortex-A76 class
triple = aarch64-unknown-linux-gnu
cpu = cortex-a76
features = +neon,+fp-armv8,+dotprod
vector_width = 4
vector_registers = 32
l1 = 64K
l2 = 512K
l3 = 2M
flops_per_cycle = 16
clock_ghz = 2.4
"""#),
    ]
}
