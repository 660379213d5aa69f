#include "platforms/sim/model_file.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

namespace sprint::platform {

const std::vector<std::string>& model_layer_options() {
    static const std::vector<std::string> names = {"workload",
                                                   "heads",
                                                   "seq-len",
                                                   "head-dim",
                                                   "valid-len",
                                                   "locality",
                                                   "sharpness",
                                                   "sharpness-spread",
                                                   "sinks",
                                                   "sink-strength",
                                                   "band",
                                                   "band-width",
                                                   "min-valid",
                                                   "seed",
                                                   "q",
                                                   "k",
                                                   "v",
                                                   "causal",
                                                   "threshold",
                                                   "keep-mass",
                                                   "keep-fraction",
                                                   "calibrate-on",
                                                   "calibrate-queries",
                                                   "calibrate-q",
                                                   "calibrate-k"};
    return names;
}

bool model_file_option(const std::string& key) {
    return key == "q" || key == "k" || key == "v" || key == "calibrate-q" || key == "calibrate-k";
}

namespace {

// A scalar's text, or a list's items joined by commas (threshold: one per head).
std::string value_text(const YAML::Node& v, const std::string& where) {
    if (v.IsScalar()) return v.Scalar();
    if (v.IsSequence()) {
        std::string s;
        for (const auto& item : v) {
            if (!item.IsScalar()) throw std::runtime_error(where + ": a list of values only");
            s += (s.empty() ? "" : ",") + item.Scalar();
        }
        return s;
    }
    throw std::runtime_error(where + ": a value or a list of values");
}

ModelLayer read_layer(const YAML::Node& n, std::size_t index, const std::string& dir,
                      const std::string& file) {
    ModelLayer l;
    const std::string at = file + ": layer " + std::to_string(index + 1);
    if (!n.IsMap())
        throw std::runtime_error(at + ": a map of options (name, repeat, workload, ...)");
    const auto& allowed = model_layer_options();
    for (const auto& kv : n) {
        const std::string key = kv.first.Scalar();
        const std::string where = at + ", '" + key + "'";
        if (key == "name") {
            l.name = value_text(kv.second, where);
        } else if (key == "repeat") {
            const std::string t = value_text(kv.second, where);
            std::size_t used = 0;
            long long r = 0;
            try {
                r = std::stoll(t, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != t.size() || r < 1 || r > 1000000)
                throw std::runtime_error(where + ": '" + t +
                                         "' is not a whole number of layers from 1 to 1000000");
            l.repeat = uint32_t(r);
        } else if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) {
            std::string v = value_text(kv.second, where);
            if (model_file_option(key) && !v.empty() && std::filesystem::path(v).is_relative())
                v = (std::filesystem::path(dir) / v).lexically_normal().string();
            l.options.emplace_back(key, v);
        } else {
            std::string list;
            for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
            throw std::runtime_error(
                where +
                ": not an option a layer may set (a layer sets its workload: name, "
                "repeat, " +
                list +
                "; the IP, memory, job and outputs are the command "
                "line's, for every layer)");
        }
    }
    if (l.name.empty()) l.name = "layer" + std::to_string(index + 1);
    return l;
}

}  // namespace

ModelFile read_model_file(const std::string& path) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::BadFile&) {
        throw std::runtime_error("option '--model': cannot read the file '" + path + "'");
    } catch (const YAML::Exception& e) {
        throw std::runtime_error("option '--model': " + path + ": not YAML: " + e.what());
    }
    const std::string file = "model file " + path;
    if (!root.IsMap()) throw std::runtime_error(file + ": a map with name and layers");
    ModelFile m;
    m.path = path;
    const std::string dir = std::filesystem::path(path).parent_path().string();
    for (const auto& kv : root) {
        const std::string key = kv.first.Scalar();
        if (key == "name" && kv.second.IsScalar()) {
            m.name = kv.second.Scalar();
        } else if (key == "description") {
        } else if (key == "layers") {
            if (!kv.second.IsSequence())
                throw std::runtime_error(file + ": 'layers' is a list of layers (- name: ...)");
            for (std::size_t i = 0; i < kv.second.size(); ++i)
                m.layers.push_back(read_layer(kv.second[i], i, dir, file));
        } else {
            throw std::runtime_error(file + ": '" + key +
                                     "' is not a key of a model file (name, description, layers: "
                                     "a list)");
        }
    }
    if (m.layers.empty()) throw std::runtime_error(file + ": no layers");
    std::set<std::string> names;
    for (const auto& l : m.layers)
        if (!names.insert(l.name).second)
            throw std::runtime_error(file + ": two layers are named '" + l.name + "'");
    if (m.name.empty()) m.name = std::filesystem::path(path).stem().string();
    return m;
}

}  // namespace sprint::platform
