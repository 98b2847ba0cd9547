// One architecture = one definition: its traits (data the loader, synth and inspect read), how a
// layer is composed from the shared blocks of transformer.h, and the named shapes particular to
// it. Each lives in engine/models/arch_<name>.cpp; architectures.cpp lists them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "engine/models/model_spec.h"

namespace scout {

class LayerPass;

struct ArchDefinition {
  Arch arch;
  std::string_view name;  // general.architecture, as llama.cpp names it
  ArchTraits traits;
  // Builds layer `il` of a forward pass.
  void (*layer)(LayerPass& pass, uint32_t il);
  // Presets only this architecture has (the real shape of a released model, say); nullopt for
  // names it does not know, which then go to the generic presets.
  std::optional<ModelHparams> (*preset)(std::string_view name) = nullptr;
};

const ArchDefinition& arch_definition(Arch arch);
std::span<const ArchDefinition* const> all_architectures();

}  // namespace scout
