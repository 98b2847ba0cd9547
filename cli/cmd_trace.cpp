// scout trace FILE: a run's JSONL trace as a readable transcript.
#include <iostream>
#include <memory>

#include "agent/trace.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"

namespace scout::cli {

namespace {

struct TraceArgs {
  std::string path;
  bool hide_thinking = false;
  std::size_t max_result_chars = 2000;
};

int run_trace(const TraceArgs& a) {
  agent::TranscriptOptions options;
  options.show_thinking = !a.hide_thinking;
  options.max_result_chars = a.max_result_chars;
  auto text = agent::render_transcript(a.path, options);
  if (!text) {
    std::cerr << "scout trace: " << text.error().message << "\n";
    return kExitModelError;
  }
  std::cout << *text;
  std::cout.flush();
  return std::cout ? kExitOk : kExitIoError;
}

}  // namespace

void register_trace(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<TraceArgs>();
  auto* cmd = app.add_subcommand("trace", "Show a run's trace (JSONL, written by 'scout run') as a readable transcript");
  cmd->add_option("FILE", a->path, "The trace file")->required();
  cmd->add_flag("--hide-thinking", a->hide_thinking, "Leave the model's thinking out");
  cmd->add_option("--max-result-chars", a->max_result_chars, "Shorten tool results to this many bytes (0: whole)")
      ->capture_default_str();
  cmd->footer("Exit codes: 0 shown, 3 the file is missing or not a trace, 4 writing the output failed.");
  cmd->callback([a, &exit_code] { exit_code = run_trace(*a); });
}

}  // namespace scout::cli
