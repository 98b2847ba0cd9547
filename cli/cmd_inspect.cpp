// scout inspect FILE [--json] [--all] [--plan [--ctx N] [--batch N] [--kv-type T]]: a GGUF file's
// metadata and tensor table, and for a model what it takes in memory to run.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <algorithm>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "engine/gguf/gguf.h"
#include "engine/models/model_gguf.h"
#include "engine/session/memory_plan.h"

namespace scout::cli {
namespace {

struct InspectArgs {
  std::string path;
  bool json = false;
  bool all = false;
  bool plan = false;
  int32_t ctx = 0;  // 0: the model's training context
  int32_t batch = 512;
  std::string kv_type = "f16";
};

std::string gib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes) / (1ull << 30));
  return text;
}

// "70272 bytes per token (multi-head latent attention; 4997120 with per-head K and V)"
std::string kv_per_token_text(uint64_t per_token, uint64_t per_token_mha) {
  std::string s = std::to_string(per_token) + " bytes per token";
  if (per_token != per_token_mha)
    s += " (multi-head latent attention; " + std::to_string(per_token_mha) + " with per-head K and V)";
  return s;
}

constexpr size_t kSummaryElements = 8;

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

nlohmann::ordered_json value_to_json(const gguf::Value& v, bool all) {
  using gguf::ValueType;
  switch (v.type()) {
    case ValueType::boolean: return *v.as_bool();
    case ValueType::float32:
    case ValueType::float64: return *v.as_float();
    case ValueType::string: return std::string(*v.as_string());
    case ValueType::array: {
      const auto array = *v.as_array();
      nlohmann::ordered_json items = nlohmann::ordered_json::array();
      uint64_t shown = 0;
      for (const auto& element : array) {
        if (!all && shown == kSummaryElements) break;
        items.push_back(value_to_json(element, all));
        ++shown;
      }
      if (all) return items;
      return {{"type", std::string(gguf::value_type_name(array.element_type()))},
              {"length", array.size()},
              {"head", items}};
    }
    default:
      if (auto u = v.as_uint()) return *u;
      return *v.as_int();
  }
}

int run_inspect(const InspectArgs& args) {
  // A metadata-only file (no tensor data) is a model description: inspectable and plannable.
  auto file = gguf::File::open_metadata(args.path);
  if (!file) {
    std::cerr << "scout inspect: " << file.error().describe() << "\n";
    return kExitModelError;
  }
  // A model check when the file names an architecture we know: informative, never fatal here.
  std::string model_summary;
  std::optional<MemoryPlan> plan;
  if (file->contains("general.architecture")) {
    auto hp = read_hparams(*file);
    if (!hp) {
      model_summary = "not loadable: " + hp.error().message;
    } else if (auto ok = check_model_tensors(*file, *hp); !ok) {
      model_summary = "not loadable: " + ok.error().message;
    } else {
      char params[32];
      std::snprintf(params, sizeof params, "%.3f B", static_cast<double>(hp->n_params()) / 1e9);
      model_summary = std::string(arch_name(hp->arch)) + ", " + params + " parameters, tensors match the metadata";
      if (!file->tensor_data_present()) model_summary += " (metadata only: no tensor data)";
      uint64_t weight_bytes = 0;
      for (const auto& t : file->tensors()) weight_bytes += t.n_bytes;
      const int32_t n_ctx = args.ctx > 0 ? args.ctx : static_cast<int32_t>(std::max<uint32_t>(1, hp->n_ctx_train));
      plan = plan_memory(*hp, weight_bytes, n_ctx, args.batch, args.kv_type == "f32" ? KvType::f32 : KvType::f16);
    }
  }
  if (args.plan && !plan) {
    std::cerr << "scout inspect: --plan needs a model Scout can run; "
              << (model_summary.empty() ? "the file names no architecture" : model_summary) << "\n";
    return kExitModelError;
  }

  if (args.json) {
    nlohmann::ordered_json out;
    out["path"] = file->path();
    out["version"] = file->version();
    out["file_size"] = file->file_size();
    out["alignment"] = file->alignment();
    out["data_offset"] = file->data_offset();
    if (!model_summary.empty()) out["model_check"] = model_summary;
    out["tensor_data"] = file->tensor_data_present();
    if (plan) {
      out["kv_bytes_per_token"] = plan->kv_bytes_per_token;
      out["kv_bytes_per_token_mha"] = plan->kv_bytes_per_token_mha;
      if (args.plan)
        out["plan"] = {{"n_ctx", plan->n_ctx},
                       {"n_batch", plan->n_batch},
                       {"kv_type", args.kv_type},
                       {"weight_bytes", plan->weight_bytes},
                       {"kv_bytes", plan->kv_bytes},
                       {"activation_bytes", plan->activation_bytes},
                       {"total_bytes", plan->total()}};
    }
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& entry : file->metadata()) meta[std::string(entry.key)] = value_to_json(entry.value, args.all);
    out["metadata"] = std::move(meta);
    nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
    for (const auto& t : file->tensors())
      tensors.push_back({{"name", t.name},
                         {"type", std::string(ggml_type_name(t.type))},
                         {"shape", t.shape},
                         {"offset", t.offset},
                         {"n_bytes", t.n_bytes}});
    out["tensors"] = std::move(tensors);
    // Strings in a GGUF may hold any bytes: invalid UTF-8 is replaced rather than refused.
    std::cout << out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    return kExitOk;
  }

  std::printf("%s: GGUF v%u, %llu bytes, alignment %u, %zu metadata keys, %zu tensors\n", file->path().c_str(),
              file->version(), static_cast<unsigned long long>(file->file_size()), file->alignment(),
              file->metadata().size(), file->tensors().size());
  if (!model_summary.empty()) std::printf("model: %s\n", model_summary.c_str());
  if (plan)
    std::printf("kv cache: %s at %s\n", kv_per_token_text(plan->kv_bytes_per_token, plan->kv_bytes_per_token_mha).c_str(),
                args.kv_type == "f32" ? "F32" : "F16");
  if (args.plan) {
    std::printf("\nmemory plan for %d tokens of context, batches of %d, %s cache:\n", plan->n_ctx, plan->n_batch,
                args.kv_type == "f32" ? "F32" : "F16");
    std::printf("  %-12s %14s  (mapped from the file, not copied)\n", "weights", gib(plan->weight_bytes).c_str());
    std::printf("  %-12s %14s", "kv cache", gib(plan->kv_bytes).c_str());
    if (plan->kv_bytes_per_token != plan->kv_bytes_per_token_mha)
      std::printf("  (%s with per-head K and V)", gib(plan->kv_bytes_per_token_mha * static_cast<uint64_t>(plan->n_ctx)).c_str());
    std::printf("\n  %-12s %14s  (one batch)\n", "activations", gib(plan->activation_bytes).c_str());
    std::printf("  %-12s %14s\n", "total", gib(plan->total()).c_str());
    return kExitOk;
  }
  std::printf("\nmetadata:\n");
  const size_t max_elements = args.all ? SIZE_MAX : kSummaryElements;
  const size_t max_string = args.all ? SIZE_MAX : 200;
  for (const auto& entry : file->metadata())
    std::printf("  %-44.*s %-24s %s\n", static_cast<int>(entry.key.size()), entry.key.data(),
                gguf::describe_type(entry.value).c_str(),
                gguf::format_value(entry.value, max_elements, max_string).c_str());
  std::printf("\ntensors:\n  %-36s %-6s %-22s %14s %14s\n", "name", "type", "shape", "offset", "bytes");
  for (const auto& t : file->tensors())
    std::printf("  %-36s %-6s %-22s %14llu %14llu\n", t.name.c_str(), std::string(ggml_type_name(t.type)).c_str(),
                shape_text(t.shape).c_str(), static_cast<unsigned long long>(t.offset),
                static_cast<unsigned long long>(t.n_bytes));
  return kExitOk;
}

}  // namespace

void register_inspect(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<InspectArgs>();
  auto* cmd = app.add_subcommand("inspect", "Print a GGUF file's metadata and tensor table");
  cmd->add_option("file", args->path, "GGUF file")->required();
  cmd->add_flag("--json", args->json, "Print one JSON object instead of tables");
  cmd->add_flag("--all", args->all, "Print arrays (e.g. the vocabulary) in full instead of their first elements");
  cmd->add_flag("--plan", args->plan,
                "Print the memory a model takes to run (weights, KV cache at --ctx, activations) instead of the tables");
  cmd->add_option("-c,--ctx", args->ctx, "Context size for --plan (default: the model's training context)")
      ->check(CLI::Range(1, 1 << 24));
  cmd->add_option("-b,--batch", args->batch, "Tokens per forward pass for --plan")->capture_default_str()->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--kv-type", args->kv_type, "KV cache element type for --plan")
      ->capture_default_str()
      ->check(CLI::IsMember({"f16", "f32"}));
  cmd->callback([args, &exit_code] { exit_code = run_inspect(*args); });
}

}  // namespace scout::cli
