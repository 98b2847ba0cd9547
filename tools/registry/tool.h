// The one interface every tool implements (built-in, MCP, native plugins): a name, a
// description, a JSON Schema for its arguments, and an asynchronous invoke.
//
// Contract for implementers:
//  - invoke runs on the caller's Asio executor as a coroutine and must never block it; blocking
//    work goes to a worker thread behind an operation that completes on cancellation.
//  - A failure the model can act on (bad input, a page that would not load, a program that
//    crashed) is a value: ToolOutput with is_error set and a message written for the model.
//    Exceptions are for programmer errors; the registry still turns any that escape into an
//    error output so one broken tool never ends the agent's loop.
//  - Cancellation arrives through the coroutine's own cancellation state: every Asio operation
//    the tool co_awaits is cancelled for it when the call is cancelled or its deadline passes.
//    A tool needs no cancellation code of its own unless it waits on something that is not an
//    Asio operation.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <nlohmann/json.hpp>

namespace scout::tools {

namespace asio = boost::asio;

// ordered_json throughout: schemas and arguments are rendered into prompts, where key order is
// part of the text the model sees (see agent/messages.h).
using Json = nlohmann::ordered_json;

// What a call produced.
struct ToolOutput {
  std::string text;                  // what the model reads as the observation
  bool is_error = false;             // the call failed; `text` says why, for the model to fix
  std::optional<Json> structured;    // machine-readable detail for traces and front ends

  static ToolOutput success(std::string text, std::optional<Json> structured = std::nullopt) {
    return ToolOutput{std::move(text), false, std::move(structured)};
  }
  static ToolOutput failure(std::string text, std::optional<Json> structured = std::nullopt) {
    return ToolOutput{std::move(text), true, std::move(structured)};
  }
};

// How far a long call has got, for a caller that shows progress (an MCP client that asked for
// notifications/progress). `progress` grows with every report; `total` is set when known.
struct ToolProgress {
  double progress = 0;
  std::optional<double> total;
  std::string message;  // e.g. "step 2: calling web_search"
};

// A report as a person reads it: "2/5: indexing", "40", "step 3: answering".
std::string describe_progress(const ToolProgress& progress);

// The conditions one call runs under.
struct ToolContext {
  using Clock = std::chrono::steady_clock;
  // After this the registry cancels the call and reports it as timed out. max() means none.
  Clock::time_point deadline = Clock::time_point::max();
  // The caller's cancellation, given to Registry::call: when connected, emitting on its signal
  // (on the executor's thread) cancels the call. When not connected, the call follows the
  // cancellation of the coroutine that awaits it instead (e.g. under awaitable operator ||).
  // The registry hands tools an unconnected slot: they see cancellation through their own
  // coroutine, as described above.
  asio::cancellation_slot cancel;
  // Where the tool may report progress (on the executor's thread); empty when nobody listens.
  // Optional for tools: most finish too quickly for it to matter.
  std::function<void(const ToolProgress&)> progress;
};

// A tool. Implementations are immutable after construction, so one instance may serve many
// concurrent calls; any state a call needs lives in its coroutine frame.
class Tool {
 public:
  virtual ~Tool() = default;

  // Unique within a registry; letters, digits, '_' and '-' only (what function-calling APIs
  // accept).
  virtual std::string name() const = 0;
  // One or two sentences telling the model when to use the tool.
  virtual std::string description() const = 0;
  // A JSON Schema of type "object" describing the arguments. The registry validates arguments
  // against it and fills in defaults before invoke, so invoke may rely on its shape.
  virtual Json parameters() const = 0;

  virtual asio::awaitable<ToolOutput> invoke(Json arguments, ToolContext ctx) = 0;

  // Where the tool comes from, for people reading `scout tools` (never shown to the model):
  // "built-in", "MCP server 'NAME'", "native plugin 'NAME' (PATH)".
  virtual std::string origin() const { return "built-in"; }
};

}  // namespace scout::tools
