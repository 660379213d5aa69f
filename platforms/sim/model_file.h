// A model workload (sprint-sim --model FILE): a YAML file that lists a model's attention layers,
// each with the sprint-sim workload options that describe it (a synthetic preset and its knobs,
// or Q/K/V .npy files; heads, causal mask, valid lengths, thresholds) and how many identical
// layers it stands for (simulated once, counted `repeat` times). docs/workloads.md.
//
//   name: my-model
//   layers:
//     - name: encoder
//       repeat: 12
//       workload: bert-base
//     - name: decoder
//       q: decoder_q.npy          # relative to the model file's folder
//       k: decoder_k.npy
//       v: decoder_v.npy
//       causal: true
//
// Only workload and threshold options may be set per layer (model_layer_options()); the IP, the
// memory, the job and the outputs are the command line's, the same for every layer.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sprint::platform {

struct ModelLayer {
    std::string name;
    uint32_t repeat = 1;
    // sprint-sim options, by name without dashes, with their values as text (file names made
    // relative to the current folder).
    std::vector<std::pair<std::string, std::string>> options;
};

struct ModelFile {
    std::string name, path;
    std::vector<ModelLayer> layers;
};

// The options a layer may set.
const std::vector<std::string>& model_layer_options();

// Whether a layer option names a file (relative to the model file's folder when read).
bool model_file_option(const std::string& key);

// Reads and checks a model file; throws std::runtime_error naming the file, the layer and the
// problem (an unknown or forbidden key, a repeat that is not a positive integer, two layers of
// one name, no layers).
ModelFile read_model_file(const std::string& path);

}  // namespace sprint::platform
