// Threshold calibration: per head, the threshold (logit units) that keeps a target share of the
// visible pairs or of the softmax mass, found on the scores the keep rule really compares:
//   sprint       - the comparator's margins (bitline minus reference shift plus offset), with the
//                  configured bit widths and mid-point mapping; without the non-idealities
//                  (`Ideal`) or with them (`Hardware`, the same seeded draws as the IP's);
//   onchip-prune - the exact int8 scores the datapath prunes on;
//   dense, dense-stream - nothing is pruned: the threshold is 0 and unused.
// The calibration set is the first `queries` queries of each head (0: all of them).
#pragma once

#include <vector>

#include <cstdint>

#include "core/reference.h"
#include "core/types.h"

namespace sprint::core {

enum class CalibrationTarget : uint8_t { KeepFraction, KeepMass };
enum class CalibrateOn : uint8_t { Ideal, Hardware };
const char* to_string(CalibrateOn c);

struct CalibrationSpec {
    CalibrationTarget target = CalibrationTarget::KeepFraction;
    // KeepFraction: the share of the visible pairs kept, (0, 1]; KeepMass: the share of each
    // calibration query's softmax mass on the kept keys, on average over the queries, (0, 1].
    double value = 0.10;
    Mode mode = Mode::Sprint;
    CalibrateOn on = CalibrateOn::Ideal;
    bool causal = false;
    uint32_t queries = 0;

    static CalibrationSpec fraction(double v, bool causal = false, Mode m = Mode::Sprint) {
        CalibrationSpec c;
        c.value = v;
        c.causal = causal;
        c.mode = m;
        return c;
    }
    static CalibrationSpec mass(double v, bool causal = false, Mode m = Mode::Sprint) {
        CalibrationSpec c = fraction(v, causal, m);
        c.target = CalibrationTarget::KeepMass;
        return c;
    }
};

// The softmax the mass target weighs the pairs with: the dense float softmax of the float inputs
// `q`, `k` when given, else of the exact int8 logits.
struct MassWeights {
    const Tensor3* q = nullptr;
    const Tensor3* k = nullptr;
};

// The threshold of head h. It sits halfway between the lowest kept score and the next lower
// distinct one, so a small rounding of it keeps the same pairs; ties are kept together, so the
// share kept is at least the target (the whole group of equal scores at the boundary).
float calibrate_threshold(const QuantizedWorkload& w, int h, const XbarNumerics& x,
                          const CalibrationSpec& c, const MassWeights& mass = {});
// Every head's threshold, the heads shared among up to `threads` host threads (each head's
// calibration is independent: the same values as one calibrate_threshold per head).
std::vector<float> calibrate_thresholds(const QuantizedWorkload& w, const XbarNumerics& x,
                                        const CalibrationSpec& c, const MassWeights& mass,
                                        unsigned threads);

}  // namespace sprint::core
