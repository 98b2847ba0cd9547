// scout inspect FILE [--json] [--all]: a GGUF file's metadata and tensor table.
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "engine/gguf/gguf.h"
#include "engine/models/model_gguf.h"

namespace scout::cli {
namespace {

struct InspectArgs {
  std::string path;
  bool json = false;
  bool all = false;
};

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
  auto file = gguf::File::open(args.path);
  if (!file) {
    std::cerr << "scout inspect: " << file.error().describe() << "\n";
    return kExitModelError;
  }
  // A model check when the file names an architecture we know: informative, never fatal here.
  std::string model_summary;
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
    }
  }

  if (args.json) {
    nlohmann::ordered_json out;
    out["path"] = file->path();
    out["version"] = file->version();
    out["file_size"] = file->file_size();
    out["alignment"] = file->alignment();
    out["data_offset"] = file->data_offset();
    if (!model_summary.empty()) out["model_check"] = model_summary;
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
  cmd->callback([args, &exit_code] { exit_code = run_inspect(*args); });
}

}  // namespace scout::cli
