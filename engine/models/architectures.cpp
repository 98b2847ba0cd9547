// The architectures Scout runs. Adding one is its arch_<name>.cpp plus a line here.
#include "engine/models/arch.h"

namespace scout {

extern const ArchDefinition kQwen3MoeArch;
extern const ArchDefinition kQwen3Arch;
extern const ArchDefinition kQwen2Arch;
extern const ArchDefinition kLlamaArch;
extern const ArchDefinition kDeepseek2Arch;

namespace {
constexpr const ArchDefinition* kArchitectures[] = {&kQwen3MoeArch, &kQwen3Arch, &kQwen2Arch, &kLlamaArch,
                                                    &kDeepseek2Arch};
}  // namespace

std::span<const ArchDefinition* const> all_architectures() { return kArchitectures; }

const ArchDefinition& arch_definition(Arch arch) {
  for (const ArchDefinition* a : kArchitectures)
    if (a->arch == arch) return *a;
  return *kArchitectures[0];  // unreachable: every Arch value has a definition
}

}  // namespace scout
