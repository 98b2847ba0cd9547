#include "cli/run_view.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ostream>

namespace scout::cli {

namespace {

const char* kDim = "\x1b[2m";
const char* kBold = "\x1b[1m";
const char* kReset = "\x1b[0m";

std::string one_line(const std::string& text, std::size_t limit) {
  std::string out;
  for (char c : text) {
    if (out.size() >= limit) {
      out += "…";
      break;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  return out;
}

std::string seconds(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000.0);
  return buf;
}

}  // namespace

bool stderr_wants_color() {
  const char* no_color = std::getenv("NO_COLOR");
  return isatty(STDERR_FILENO) && (no_color == nullptr || *no_color == '\0');
}

RunView::RunView(RunViewOptions options, std::ostream& out, std::ostream& err)
    : options_(options), out_(out), err_(err) {}

void RunView::end_thinking() {
  if (!in_thinking_) return;
  err_ << (options_.color ? kReset : "") << "\n";
  err_.flush();
  in_thinking_ = false;
}

void RunView::on_event(const agent::LoopEvent& e) {
  using Kind = agent::LoopEvent::Kind;
  using Stream = agent::StreamEvent::Kind;
  if (options_.json) return;
  switch (e.kind) {
    case Kind::turn_start:
      break;
    case Kind::model:
      switch (e.model->kind) {
        case Stream::thinking_text:
          if (!options_.show_thinking) break;
          if (!in_thinking_ && options_.color) err_ << kDim;
          in_thinking_ = true;
          err_ << e.model->text;
          err_.flush();
          break;
        case Stream::answer_text:
          end_thinking();
          if (options_.stdout_is_tty && !e.model->text.empty()) {
            out_ << e.model->text;
            out_.flush();
            answer_streamed_ = true;
            answer_line_open_ = e.model->text.back() != '\n';
          }
          break;
        case Stream::issue:
          end_thinking();
          err_ << "! " << e.model->text << "\n";
          break;
        case Stream::tool_call:
        case Stream::thought_call:
          break;  // shown when it starts running
      }
      break;
    case Kind::notice:
      end_thinking();
      err_ << "note: " << e.text << "\n";
      break;
    case Kind::tool_start:
      end_thinking();
      if (answer_line_open_) {
        out_ << "\n";
        out_.flush();
        answer_line_open_ = false;
      }
      err_ << (options_.color ? kBold : "") << "→ " << e.call->name << (options_.color ? kReset : "")
           << (e.in_thought ? " (while thinking) " : " ") << one_line(e.call->arguments.dump(), 200) << "\n";
      break;
    case Kind::tool_progress:
      err_ << "  … " << e.call->name << ": " << one_line(std::string(e.text), 160) << "\n";
      break;
    case Kind::tool_end:
      err_ << "← " << e.call->name << (e.output->is_error ? " failed" : "") << " (" << static_cast<long>(e.tool_ms)
           << " ms, " << e.output->text.size() << " bytes): " << one_line(e.output->text, 160) << "\n";
      break;
    case Kind::turn_end:
      end_thinking();
      break;
  }
}

void RunView::finish(const agent::RunResult& r, const std::string& trace_path) {
  if (options_.json) return;
  end_thinking();
  if (answer_streamed_) {
    if (answer_line_open_) out_ << "\n";
  } else if (!r.answer.empty() && r.status == agent::RunStatus::answered) {
    out_ << r.answer << "\n";
  }
  if (options_.cite && !r.sources.empty()) {
    out_ << "\nSources:\n";
    for (std::size_t i = 0; i < r.sources.size(); ++i) {
      out_ << "[" << i + 1 << "] ";
      if (!r.sources[i].title.empty()) out_ << one_line(r.sources[i].title, 200) << " — ";
      out_ << r.sources[i].url << "\n";
    }
  }
  out_.flush();
  err_ << (options_.color ? kDim : "") << "[" << agent::run_status_name(r.status) << ": " << r.steps << " steps, "
       << r.tool_calls << " tool calls, " << r.usage.completion_tokens << " tokens generated, " << seconds(r.wall_ms);
  if (!trace_path.empty()) err_ << "; trace " << trace_path;
  err_ << "]" << (options_.color ? kReset : "") << "\n";
  if (r.status != agent::RunStatus::answered) err_ << "scout run: stopped: " << r.detail << "\n";
  err_.flush();
}

}  // namespace scout::cli
