// libFuzzer target: the streamed model-output parser (agent/stream_parser.h) on arbitrary model
// output, fed whole and split into chunks.
//
// Input: byte 0 picks the chat format (qwen3, deepseek-v3, deepseek-r1), where the output starts
// (answer, thinking, thinking_only) and whether the in-thought actions (<search>, <fetch>,
// <run>) are markup; bytes 1-4 are chunk sizes (cycled; 0 feeds an empty chunk); the rest is
// the model's output.
//
// Checked, as stream_parser.h promises:
//   - the events do not depend on the chunking: fed whole and fed in chunks, the same events
//     come out once adjacent text events of one kind are joined (the kinds' concatenated text,
//     the tool calls, thought calls and issues, and their order);
//   - no byte is invented: the text events and thought-call texts are pieces of the output, in
//     order; an issue's raw text is a piece of the output (or the empty-block marker);
//   - every tool call has a name, an object for arguments and ids call_1, call_2, ... in order;
//     every thought call is one of the actions with its argument a string.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/chat_format.h"
#include "agent/stream_parser.h"
#include "agent/thought_protocol.h"
#include "fuzz/fuzz_check.h"

namespace {

using scout::fuzz::check;
using namespace scout::agent;

// The events with adjacent text of one kind joined: what must not depend on the chunking.
std::vector<StreamEvent> joined(std::vector<StreamEvent> events) {
  std::vector<StreamEvent> out;
  for (auto& e : events) {
    const bool text = e.kind == StreamEvent::Kind::thinking_text || e.kind == StreamEvent::Kind::answer_text;
    if (text && !out.empty() && out.back().kind == e.kind) {
      out.back().text += e.text;
      continue;
    }
    out.push_back(std::move(e));
  }
  return out;
}

bool same(const StreamEvent& a, const StreamEvent& b) {
  return a.kind == b.kind && a.text == b.text && a.raw == b.raw && a.call_not_run == b.call_not_run &&
         a.call.id == b.call.id && a.call.name == b.call.name && a.call.arguments == b.call.arguments;
}

std::vector<StreamEvent> run(const StreamTags& tags, StreamParser::Start start, const std::vector<ThoughtAction>& actions,
                             std::string_view output, const std::uint8_t* sizes, std::size_t n_sizes, bool whole) {
  StreamParser parser(tags, start, actions);
  std::vector<StreamEvent> events;
  auto take = [&](std::vector<StreamEvent> more) {
    for (auto& e : more) events.push_back(std::move(e));
  };
  if (whole) {
    take(parser.feed(output));
  } else {
    scout::fuzz::for_each_piece(output, sizes, n_sizes, [&](std::string_view piece) { take(parser.feed(piece)); });
    take(parser.feed(""));
  }
  take(parser.finish());
  return events;
}

// Whether `piece` occurs in `output` at or after `from`; moves `from` past it.
bool occurs_after(std::string_view output, std::string_view piece, std::size_t& from) {
  const std::size_t at = output.find(piece, from);
  if (at == std::string_view::npos) return false;
  from = at + piece.size();
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  scout::fuzz::Input in(data, size);
  const std::uint8_t selector = in.byte();
  std::uint8_t sizes[4];
  for (auto& s : sizes) s = in.byte() % 24;
  const std::string_view output = in.rest();

  static const ChatFormat formats[] = {ChatFormat(ChatFormat::Kind::qwen3), ChatFormat(ChatFormat::Kind::deepseek_v3),
                                       ChatFormat(ChatFormat::Kind::deepseek_r1)};
  const StreamTags tags = formats[selector % 3].stream_tags();
  const StreamParser::Start starts[] = {StreamParser::Start::answer, StreamParser::Start::thinking,
                                        StreamParser::Start::thinking_only};
  const StreamParser::Start start = starts[(selector / 3) % 3];
  static const std::vector<ThoughtAction> all_actions =
      thought_actions_for({{"web_search", "", {}}, {"fetch_url", "", {}}, {"run_code", "", {}}});
  const std::vector<ThoughtAction> actions = (selector & 0x80) ? all_actions : std::vector<ThoughtAction>{};

  const auto whole = run(tags, start, actions, output, sizes, 4, true);
  const auto chunked = run(tags, start, actions, output, sizes, 4, false);

  // Nothing invented: text pieces occur in the output in order, issue raws are pieces of it.
  std::size_t from = 0;
  int next_call = 1;
  const std::string empty_block = tags.tool_calls_open + tags.tool_calls_close;
  for (const StreamEvent& e : chunked) {
    switch (e.kind) {
      case StreamEvent::Kind::thinking_text:
      case StreamEvent::Kind::answer_text:
        check(!e.text.empty(), "an empty text event");
        check(occurs_after(output, e.text, from), "a text event holds bytes that are not in the output (in order)");
        break;
      case StreamEvent::Kind::thought_call: {
        check(occurs_after(output, e.text, from), "a thought call's text is not in the output (in order)");
        bool known = false;
        for (const ThoughtAction& a : actions) {
          if (a.tool != e.call.name) continue;
          known = true;
          check(e.call.arguments.is_object() && e.call.arguments.contains(a.argument) &&
                    e.call.arguments[a.argument].is_string(),
                "a thought call without its argument as a string");
        }
        check(known, "a thought call of a tool that is no action");
        break;
      }
      case StreamEvent::Kind::tool_call:
        check(!e.call.name.empty(), "a tool call without a name");
        check(e.call.arguments.is_object(), "a tool call whose arguments are not an object");
        check(e.call.id == "call_" + std::to_string(next_call++), "tool call ids out of sequence");
        break;
      case StreamEvent::Kind::issue:
        check(!e.text.empty(), "an issue without a description");
        check(e.raw.empty() || e.raw == empty_block || output.find(e.raw) != std::string_view::npos,
              "an issue's raw text is not in the output");
        break;
    }
  }

  const auto a = joined(whole);
  const auto b = joined(chunked);
  check(a.size() == b.size(), "fed whole and in chunks, the parser gives a different number of events");
  for (std::size_t i = 0; i < a.size(); ++i) check(same(a[i], b[i]), "fed whole and in chunks, the parser gives different events");
  return 0;
}
