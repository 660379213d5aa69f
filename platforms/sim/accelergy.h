// Reading Accelergy's reference tables (ERT.yaml: energy per action, ART.yaml: area per component,
// versions 0.3 and 0.4) as a technology table over the model's own (`--tech ERT.yaml,ART.yaml`).
// The mapping (docs/energy.md, "Accelergy tables"):
//  * a table's component is the last part of its dotted name with any [i..j] range removed,
//    compared without case: "system.chip.DRAM" is the model's block "dram";
//  * an ERT action of the same name as one of the block's actions gives its energy; Accelergy's
//    `idle` action (pJ per idle cycle) gives the block's leakage (mW = pJ per cycle / clock ns);
//  * Accelergy gives energy per access and area per instance. Where the model counts per bit or
//    per byte (dram, sram) the table must say how wide one access is: `width: <bits>` next to
//    `name`; where the model counts a structure in KB (sram) the table must say
//    `kilobytes: <KB>` per instance. Neither key is Accelergy's own; a missing one is an error
//    naming the table, never a silent factor of 64;
//  * an action given several times (with different `arguments`) counts only with `arguments: null`;
//  * components and actions the model has not are listed in `ignored`, never an error;
//    a file from which nothing applies is.
#pragma once

#include <string>
#include <vector>

#include "core/energy.h"

namespace sprint {

// The entries `path` gives, in the model's units (`model` names the blocks, actions and units).
// Throws std::runtime_error naming the table or action at fault.
core::TechTable tech_from_accelergy(const std::string& path, const core::TechTable& model,
                                    double clock_ns, std::vector<std::string>& ignored);

// True when the file's first character that is not white space opens a JSON object.
bool tech_file_is_json(const std::string& path);

}  // namespace sprint
