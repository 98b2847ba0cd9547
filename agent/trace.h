// The run trace: one JSON object per line (JSONL), each event handed to the kernel in one
// write() as it happens, so a run that is killed leaves a valid trace up to the kill: every line
// is a complete event; the one being written when the process died is the only one that can be
// cut (a write the kernel stops partway), and readers note a cut last line. The file is made
// before the first event, so a run killed in between leaves it empty. Its descriptor is
// close-on-exec: the programs a run starts (MCP servers, plugins' helpers) never hold it.
//
// Events (field "type"), in the order a run writes them:
//   run_start    task, backend, tools, options, version, time (UTC, ISO 8601)
//   turn_start   step, messages (the conversation's length)
//   thinking     step, text   } the model's output, in pieces of at most a few hundred bytes as
//   answer       step, text   } it streams (concatenate a step's pieces to get the whole text)
//   issue        step, text, raw         malformed output reported back to the model
//   turn_end     step, finish, tool_calls, usage {prompt_tokens, prefilled_tokens,
//                completion_tokens, reasoning_tokens, prompt_ms, generate_ms, tokens_per_s}
//   tool_call    step, id, name, arguments
//   tool_result  step, id, name, is_error, text (as the model read it), chars (before
//                truncation), truncated, ms
//   run_end      status, answer, detail, steps, tool_calls, usage (totals), wall_ms
// Every event also carries "t_ms", milliseconds since run_start.
//
// Secrets: every registered secret (API keys in effect) is replaced by "[redacted]" in each
// line before it is written, whatever field it appears in (a model can echo a key it saw in a
// page). Secrets shorter than 8 bytes are not registered: replacing them would mangle text.
//
// Thread-safety: a TraceWriter is used from one thread (the agent's executor).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/expected.h"

namespace scout::agent {

class TraceWriter {
 public:
  // Creates (truncates) `path`, creating its parent directories. An empty path: a writer that
  // writes nothing (tracing off).
  static Result<TraceWriter> open(const std::string& path, std::vector<std::string> secrets = {});
  static TraceWriter disabled();

  TraceWriter(TraceWriter&&) noexcept;
  TraceWriter& operator=(TraceWriter&&) noexcept;
  ~TraceWriter();

  bool enabled() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

  // Writes one event: `event` plus "type" and "t_ms", as one line in one write(). A write failure
  // (disk full) turns the writer off and is reported once by failed(); the run itself goes on.
  void write(std::string_view type, nlohmann::ordered_json event);
  const std::string& failed() const { return failure_; }

  // Milliseconds since the writer was opened.
  double elapsed_ms() const;

  // `text` with every registered secret replaced.
  std::string redact(std::string text) const;

 private:
  TraceWriter() = default;

  int fd_ = -1;
  std::string path_;
  std::vector<std::string> secrets_;
  std::string failure_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// A trace as a readable transcript for `scout trace FILE`: the task, each step's thinking
// (prefixed), answer text, tool calls with arguments and results (shortened to
// max_result_chars; 0: whole), timings and token counts, and the outcome. A cut last line and
// an empty file (a run killed before its first event) are noted, not errors; a line that is not
// JSON anywhere else is an error naming the line.
struct TranscriptOptions {
  bool show_thinking = true;
  std::size_t max_result_chars = 2000;
};
Result<std::string> render_transcript(const std::string& path, const TranscriptOptions& options);

}  // namespace scout::agent
