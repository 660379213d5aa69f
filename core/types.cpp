#include "core/types.h"

namespace sprint::core {

const char* to_string(Mode m) {
    switch (m) {
        case Mode::Sprint:
            return "sprint";
        case Mode::Dense:
            return "dense";
        case Mode::OnchipPrune:
            return "onchip-prune";
        case Mode::DenseStream:
            return "dense-stream";
    }
    return "?";
}
const char* to_string(EmptyRowPolicy p) {
    return p == EmptyRowPolicy::Max ? "max" : "self";
}
const char* to_string(SoftmaxKind k) {
    switch (k) {
        case SoftmaxKind::Fixed:
            return "fixed";
        case SoftmaxKind::Float:
            return "float";
        case SoftmaxKind::Prob8:
            return "prob8";
    }
    return "?";
}
const char* to_string(OutputFormat f) {
    return f == OutputFormat::Int16 ? "int16" : "float32";
}

bool parse(const std::string& s, Mode& out) {
    if (s == "sprint")
        out = Mode::Sprint;
    else if (s == "dense")
        out = Mode::Dense;
    else if (s == "onchip-prune")
        out = Mode::OnchipPrune;
    else if (s == "dense-stream")
        out = Mode::DenseStream;
    else
        return false;
    return true;
}
bool parse(const std::string& s, EmptyRowPolicy& out) {
    if (s == "self")
        out = EmptyRowPolicy::Self;
    else if (s == "max")
        out = EmptyRowPolicy::Max;
    else
        return false;
    return true;
}
bool parse(const std::string& s, SoftmaxKind& out) {
    if (s == "fixed")
        out = SoftmaxKind::Fixed;
    else if (s == "float")
        out = SoftmaxKind::Float;
    else if (s == "prob8")
        out = SoftmaxKind::Prob8;
    else
        return false;
    return true;
}
bool parse(const std::string& s, OutputFormat& out) {
    if (s == "float32")
        out = OutputFormat::Float32;
    else if (s == "int16")
        out = OutputFormat::Int16;
    else
        return false;
    return true;
}

}  // namespace sprint::core
