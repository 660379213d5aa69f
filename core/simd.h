// Runtime dispatch for the core's hot kernels (crossbar bitlines, int8 dot products, the dense
// float reference): on x86-64 with GCC or Clang each marked function is built twice, for AVX2
// and for the baseline, and the loader picks the one the CPU runs (ifunc), so the binary stays
// portable. Integer kernels give the same result either way; the float reference may differ in
// its last bits (its sums are taken in SIMD lanes). A few integer kernels are written for AVX2
// (SPRINT_HAVE_AVX2_KERNELS) and used when __builtin_cpu_supports says the CPU has it; they give
// the baseline's exact results. -DSPRINT_NO_CLONES builds the baseline only.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(SPRINT_NO_CLONES) && defined(__ELF__)
#define SPRINT_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#define SPRINT_HAVE_AVX2_KERNELS 1  // hand-written AVX2 kernels, chosen at run time
#else
#define SPRINT_SIMD_CLONES
#define SPRINT_HAVE_AVX2_KERNELS 0
#endif

#if SPRINT_HAVE_AVX2_KERNELS
namespace sprint::core {
// Whether this CPU runs the hand-written AVX2 (and FMA) kernels: asked once per process.
inline bool cpu_has_avx2() {
    static const bool yes = __builtin_cpu_supports("avx2");
    return yes;
}
inline bool cpu_has_avx2_fma() {
    static const bool yes = cpu_has_avx2() && __builtin_cpu_supports("fma");
    return yes;
}
}  // namespace sprint::core
#endif
