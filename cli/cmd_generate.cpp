// scout generate: runs a model on a prompt and streams the continuation.
#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/engine_args.h"
#include "cli/exit_codes.h"
#include "engine/session/generate.h"

namespace scout::cli {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted.store(true); }

struct GenerateArgs {
  EngineArgs engine;
  std::string prompt;
  std::string prompt_file;
  std::string tokens;
  bool chat = false;
  int32_t n_predict = 128;
  bool greedy = false;
  float temperature = 0.8f;
  int32_t top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int32_t repeat_last_n = 64;
  uint64_t seed = 0;
  std::vector<std::string> logit_bias;
  std::vector<std::string> stop;
  bool ignore_eos = false;
  bool truncate = false;
  bool json = false;
  bool quiet = false;
};

Result<std::vector<int32_t>> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const long v = std::stol(item, &used);
      if (used != item.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument("range");
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      return make_error("--tokens: '" + item + "' is not a token id (expected ids like 9707,11,1879)");
    }
  }
  if (ids.empty()) return make_error("--tokens: no token ids given");
  return ids;
}

// A single-turn chat prompt in the format the model's vocabulary implies. The agent's chat
// formats (multi-turn, tools, thinking) render the real templates; this is for trying a model.
Result<std::vector<int32_t>> chat_prompt(const Tokenizer& tok, const std::string& user, std::vector<int32_t>& stops) {
  std::string text;
  if (auto end = tok.find_token("<|im_end|>"); end && tok.find_token("<|im_start|>")) {
    text = "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n";
    stops.push_back(*end);
  } else if (auto eot = tok.find_token("<|eot_id|>"); eot && tok.find_token("<|start_header_id|>")) {
    text = "<|start_header_id|>user<|end_header_id|>\n\n" + user +
           "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
    stops.push_back(*eot);
  } else if (tok.find_token("<｜User｜>") && tok.find_token("<｜Assistant｜>")) {
    text = "<｜User｜>" + user + "<｜Assistant｜>";
  } else {
    return make_error("--chat: the model's vocabulary has no chat markers Scout knows (ChatML, Llama 3, DeepSeek)");
  }
  return tok.encode(text, /*add_special=*/true, /*parse_special=*/true);
}

int run_generate(const GenerateArgs& a) {
  auto model = load_model(a.engine);
  if (!model) {
    std::cerr << "scout generate: " << model.error().message << "\n";
    return kExitModelError;
  }
  const Tokenizer& tok = (*model)->tokenizer();
  GenerateOptions options;
  options.max_tokens = a.n_predict;
  options.stop_strings = a.stop;
  options.stop_at_end_of_generation = !a.ignore_eos;

  std::vector<int32_t> prompt;
  std::string text = a.prompt;
  if (!a.prompt_file.empty()) {
    std::ifstream in(a.prompt_file, std::ios::binary);
    if (!in) {
      std::cerr << "scout generate: " << a.prompt_file << ": cannot open the prompt file\n";
      return kExitModelError;
    }
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (!a.tokens.empty()) {
    auto ids = parse_ids(a.tokens);
    if (!ids) {
      std::cerr << "scout generate: " << ids.error().message << "\n";
      return kExitUsage;
    }
    prompt = *ids;
  } else if (a.chat) {
    auto ids = chat_prompt(tok, text, options.stop_tokens);
    if (!ids) {
      std::cerr << "scout generate: " << ids.error().message << "\n";
      return kExitModelError;
    }
    prompt = *ids;
  } else {
    prompt = tok.encode(text, /*add_special=*/true, /*parse_special=*/true);
  }
  if (prompt.empty()) {
    std::cerr << "scout generate: the prompt is empty (give -p TEXT, -f FILE or --tokens IDS)\n";
    return kExitUsage;
  }

  SamplerConfig sc = a.greedy ? SamplerConfig::greedy() : SamplerConfig{};
  if (!a.greedy) {
    sc.temperature = a.temperature;
    sc.top_k = a.top_k;
    sc.top_p = a.top_p;
    sc.min_p = a.min_p;
  }
  sc.repeat_penalty = a.repeat_penalty;
  sc.presence_penalty = a.presence_penalty;
  sc.frequency_penalty = a.frequency_penalty;
  sc.penalty_last_n = a.repeat_last_n;
  sc.seed = a.seed;
  for (const auto& b : a.logit_bias) {
    const auto eq = b.find('=');
    try {
      if (eq == std::string::npos) throw std::invalid_argument("no =");
      const std::string bias = b.substr(eq + 1);
      const float value = bias == "-inf" ? -INFINITY : std::stof(bias);
      sc.logit_bias.emplace_back(std::stoi(b.substr(0, eq)), value);
    } catch (const std::exception&) {
      std::cerr << "scout generate: --logit-bias '" << b << "' is not ID=VALUE (e.g. 151643=-inf or 13=2.5)\n";
      return kExitUsage;
    }
  }
  auto sampler = Sampler::create(sc, static_cast<int32_t>((*model)->hparams().n_vocab));
  if (!sampler) {
    std::cerr << "scout generate: " << sampler.error().message << "\n";
    return kExitUsage;
  }

  auto session = make_session(*model, a.engine);
  if (!session) {
    std::cerr << "scout generate: " << session.error().message << "\n";
    return kExitUsage;
  }
  const int32_t room = session->n_ctx() - 1;  // at least one position left to generate into
  if (static_cast<int32_t>(prompt.size()) > room) {
    if (!a.truncate) {
      std::cerr << "scout generate: the prompt has " << prompt.size() << " tokens but the context holds "
                << session->n_ctx() << " (raise --ctx, or pass --truncate to keep the prompt's last " << room
                << " tokens)\n";
      return kExitTaskFailed;
    }
    prompt.erase(prompt.begin(), prompt.end() - room);
  }

  g_interrupted = false;
  auto previous = std::signal(SIGINT, on_sigint);
  auto result = generate(*session, prompt, *sampler, options, [&](const TokenEvent& e) {
    if (!a.json && !e.text.empty()) {
      std::cout << e.text;
      std::cout.flush();
    }
    return !g_interrupted.load();
  });
  std::signal(SIGINT, previous);
  if (!result) {
    std::cerr << "\nscout generate: " << result.error().message << "\n";
    return kExitTaskFailed;
  }
  const auto& t = result->timings;
  if (a.json) {
    nlohmann::json out = {
        {"model", (*model)->path()},
        {"prompt_tokens", prompt},
        {"tokens", result->tokens},
        {"text", result->text},
        {"stop_reason", stop_reason_name(result->stop_reason)},
        {"timings",
         {{"n_prompt", t.n_prompt},
          {"n_generated", t.n_generated},
          {"prompt_ms", t.prompt_ms},
          {"decode_ms", t.decode_ms},
          {"prompt_tokens_per_s", t.prompt_tokens_per_s()},
          {"decode_tokens_per_s", t.decode_tokens_per_s()}}},
    };
    if (!result->matched_stop.empty()) out["matched_stop"] = result->matched_stop;
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << "\n";
    if (!a.quiet)
      std::cerr << "[" << t.n_prompt << " prompt tokens at " << static_cast<int>(t.prompt_tokens_per_s())
                << " tok/s, " << t.n_generated << " generated at " << static_cast<int>(t.decode_tokens_per_s())
                << " tok/s; stop: " << stop_reason_name(result->stop_reason) << "]\n";
  }
  return result->stop_reason == StopReason::cancelled && g_interrupted ? kExitInterrupted : kExitOk;
}

}  // namespace

void register_generate(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "Run a model on a prompt and stream the continuation");
  add_engine_options(cmd, a->engine);
  auto* p = cmd->add_option("-p,--prompt", a->prompt, "Prompt text (special tokens like <|im_start|> are parsed)");
  auto* f = cmd->add_option("-f,--file", a->prompt_file, "Read the prompt from a file");
  auto* ids = cmd->add_option("--tokens", a->tokens, "Exact prompt token ids, comma-separated (no BOS added)");
  p->excludes(f)->excludes(ids);
  f->excludes(ids);
  cmd->add_flag("--chat", a->chat, "Wrap the prompt as one user turn in the model's chat format");
  cmd->add_option("-n,--n-predict", a->n_predict, "Tokens to generate at most")->capture_default_str()->check(CLI::Range(0, 1 << 30));
  cmd->add_flag("--greedy", a->greedy, "Always take the most likely token (temperature 0)");
  cmd->add_option("--temp", a->temperature, "Temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", a->top_k, "Keep the k most likely tokens (0: off)")->capture_default_str();
  cmd->add_option("--top-p", a->top_p, "Nucleus: keep the most likely tokens up to this mass (1: off)")->capture_default_str();
  cmd->add_option("--min-p", a->min_p, "Keep tokens at least this fraction as likely as the best (0: off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", a->repeat_penalty, "Penalise repeated tokens (1: off)")->capture_default_str();
  cmd->add_option("--presence-penalty", a->presence_penalty, "Subtract from tokens already present")->capture_default_str();
  cmd->add_option("--frequency-penalty", a->frequency_penalty, "Subtract per occurrence")->capture_default_str();
  cmd->add_option("--repeat-last-n", a->repeat_last_n, "Penalty window in tokens (-1: all)")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Sampling seed")->capture_default_str();
  cmd->add_option("--logit-bias", a->logit_bias, "ID=VALUE added to a token's logit (-inf bans it); repeatable");
  cmd->add_option("--stop", a->stop, "Stop when this text is generated (not shown); repeatable");
  cmd->add_flag("--ignore-eos", a->ignore_eos, "Do not stop at the model's end-of-generation tokens");
  cmd->add_flag("--truncate", a->truncate, "Keep the end of a prompt that does not fit the context instead of failing");
  cmd->add_flag("--json", a->json, "Print one JSON object: prompt and generated ids, text, stop reason, timings");
  cmd->add_flag("-q,--quiet", a->quiet, "No timing line on stderr");
  cmd->callback([a, &exit_code] { exit_code = run_generate(*a); });
}

}  // namespace scout::cli
