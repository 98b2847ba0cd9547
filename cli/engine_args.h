// Options shared by the commands that run a model (generate, bench): model file, threads,
// context, batch, KV cache type, SIMD level.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "common/expected.h"
#include "engine/session/session.h"

namespace scout::cli {

struct EngineArgs {
  std::string model;
  int threads = 0;
  int32_t ctx = 0;
  int32_t batch = 512;
  std::string kv_type = "f16";
  std::string isa;
  std::string mla = "auto";
};

void add_engine_options(CLI::App* cmd, EngineArgs& args);
// Loads the model (and applies --isa). Errors are model/file errors.
Result<std::shared_ptr<const Model>> load_model(const EngineArgs& args);
Result<Session> make_session(std::shared_ptr<const Model> model, const EngineArgs& args);

}  // namespace scout::cli
