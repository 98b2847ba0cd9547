// RunView: how `scout run` shows a run in the terminal while it goes on.
//
//   stderr: thinking (dimmed when stderr is a terminal; hidden on request), tool calls and a
//           short form of their results, issues, the closing summary line;
//   stdout: the model's answer text. On a terminal it streams as the model writes it (the text
//           of turns that go on to call tools included, as it is part of the conversation);
//           otherwise only the final answer is printed, once, at the end — so
//           `scout run TASK > answer.txt` captures the answer and nothing else.
// With --json nothing is streamed; the caller prints one JSON object at the end.
//
// Thread-safety: used from the loop's executor only.
#pragma once

#include <iosfwd>
#include <string>

#include "agent/loop.h"

namespace scout::cli {

struct RunViewOptions {
  bool show_thinking = true;
  bool json = false;
  bool stdout_is_tty = false;
  bool stderr_is_tty = false;
  bool color = false;  // dim thinking, mark tool lines (stderr is a terminal and NO_COLOR unset)
  bool cite = false;   // list the run's sources after the answer
};

class RunView {
 public:
  RunView(RunViewOptions options, std::ostream& out, std::ostream& err);

  void on_event(const agent::LoopEvent& event);
  // Prints the final answer (when it was not streamed) and the summary line.
  void finish(const agent::RunResult& result, const std::string& trace_path);

 private:
  void end_thinking();

  RunViewOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  bool in_thinking_ = false;
  bool answer_streamed_ = false;   // some answer text went to a terminal stdout
  bool answer_line_open_ = false;  // stdout's last byte is not a newline
};

// Whether the terminal should get color: stderr is a terminal and NO_COLOR is unset or empty.
bool stderr_wants_color();

}  // namespace scout::cli
