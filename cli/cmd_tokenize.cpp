// scout tokenize / scout detokenize: a model's vocabulary by hand, text to ids and back.
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "common/text.h"
#include "engine/gguf/gguf.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab_gguf.h"

namespace scout::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::vector<std::string> text;
  std::string file;
  bool json = false;
  bool no_add_special = false;
  bool no_parse_special = false;
};

Result<Tokenizer> load_tokenizer(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file) return make_error(file.error().describe());
  auto vocab = vocab_from_gguf(*file);
  if (!vocab) return make_error(path + ": " + vocab.error().message);
  auto tok = Tokenizer::create(std::move(*vocab));
  if (!tok) return make_error(path + ": the vocabulary is not usable: " + tok.error().message);
  return tok;
}

// Reads a whole text file, or its lines (without the '\n'; a final line without one counts).
Result<std::vector<std::string>> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open for reading");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  if (in.bad()) return make_error(path + ": read error");
  return lines;
}

std::string ids_text(const std::vector<int32_t>& ids, bool json) {
  if (json) return nlohmann::json(ids).dump();
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

// Writes each line's ids as the line is read, encoding long lines a piece at a time
// (Tokenizer::piece_cut), so that memory stays bounded by the piece size for any file with
// ordinary text, a single line of many megabytes included. The output is what encoding each
// whole line would give: "[1,2,3]" per line with `json`, else "1 2 3".
class LineTokenizer {
 public:
  LineTokenizer(const Tokenizer& tok, bool add_special, bool parse_special, bool json)
      : tok_(tok), add_(add_special), parse_(parse_special), json_(json) {}

  void feed(std::string_view bytes) {
    while (!bytes.empty()) {
      const std::size_t newline = bytes.find('\n');
      line_.append(bytes.substr(0, newline));
      in_line_ = true;
      if (newline == std::string_view::npos) {
        if (line_.size() >= kPieceBytes) encode_piece();
        return;
      }
      end_line();
      bytes.remove_prefix(newline + 1);
    }
  }
  // The last line, if the file does not end with a newline.
  void finish() {
    if (in_line_) end_line();
  }

 private:
  static constexpr std::size_t kPieceBytes = std::size_t{1} << 20;

  void emit(int32_t id) {
    std::cout << (first_id_ ? "" : json_ ? "," : " ") << id;
    first_id_ = false;
  }
  // Encodes the line up to its last safe cut, if it has one. Only bytes not looked at before are
  // searched (with the two before them, which a cut's test reads), so a line without a cut costs
  // one pass, not one per block.
  void encode_piece() {
    const std::size_t from = checked_ > 2 ? checked_ - 2 : 0;
    const std::size_t found = tok_.piece_cut(std::string_view(line_).substr(from));
    checked_ = line_.size();
    if (found == 0) return;  // the line grows until a cut comes or it ends
    const std::size_t cut = from + found;
    start_line();
    for (int32_t id : tok_.encode(std::string_view(line_).substr(0, cut), false, parse_)) emit(id);
    line_.erase(0, cut);
    checked_ -= cut;
  }
  void start_line() {
    if (started_) return;
    started_ = true;
    if (json_) std::cout << '[';
    const Vocab& v = tok_.vocab();
    if (add_ && v.add_bos && v.bos_id) emit(*v.bos_id);
  }
  void end_line() {
    start_line();
    for (int32_t id : tok_.encode(line_, false, parse_)) emit(id);
    const Vocab& v = tok_.vocab();
    if (add_ && v.add_eos && v.eos_id) emit(*v.eos_id);
    std::cout << (json_ ? "]\n" : "\n");
    line_.clear();
    checked_ = 0;
    in_line_ = started_ = false;
    first_id_ = true;
  }

  const Tokenizer& tok_;
  const bool add_, parse_, json_;
  std::string line_;      // the part of the current line not yet encoded
  std::size_t checked_ = 0;  // bytes of line_ already searched for a cut
  bool in_line_ = false;  // bytes of a line were read since the last newline
  bool started_ = false;  // the current line's output has begun
  bool first_id_ = true;
};

Result<void> tokenize_file(const Tokenizer& tok, const std::string& path, bool add, bool parse, bool json) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open for reading");
  LineTokenizer lines(tok, add, parse, json);
  std::string block(std::size_t{64} << 10, '\0');
  while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0)
    lines.feed(std::string_view(block.data(), static_cast<std::size_t>(in.gcount())));
  if (in.bad()) return make_error(path + ": read error");
  lines.finish();
  return {};
}

int run_tokenize(const TokenizeArgs& args) {
  if (args.text.empty() == args.file.empty()) {
    std::cerr << "scout tokenize: give the text after '--' or a file with --file (exactly one of them)\n";
    return kExitUsage;
  }
  auto tok = load_tokenizer(args.model);
  if (!tok) {
    std::cerr << "scout tokenize: " << tok.error().message << "\n";
    return kExitModelError;
  }
  const bool add = !args.no_add_special, parse = !args.no_parse_special;
  if (!args.file.empty()) {
    if (auto done = tokenize_file(*tok, args.file, add, parse, args.json); !done) {
      std::cerr << "scout tokenize: " << done.error().message << "\n";
      return kExitModelError;
    }
    return kExitOk;
  }
  const auto ids = tok->encode(joined(args.text, " "), add, parse);
  if (args.json) {
    std::cout << ids_text(ids, true) << "\n";
    return kExitOk;
  }
  // For people: each id with the text it stands for (escaped), then the count.
  for (int32_t id : ids)
    std::cout << std::to_string(id) << "\t"
              << nlohmann::json(tok->token_to_piece(id)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  std::cout << ids.size() << " tokens\n";
  return kExitOk;
}

struct DetokenizeArgs {
  std::string model;
  std::vector<std::string> ids;
  std::string file;
  bool json = false;
};

// Accepts "1 2 3", "1,2,3" and "[1, 2, 3]".
Result<std::vector<int32_t>> parse_ids(const std::string& text, int32_t n_vocab) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == ',' || c == '[' || c == ']' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
    if (ec != std::errc() || end == text.data() + i)
      return make_error("'" + text.substr(i, 20) + "' at character " + std::to_string(i) + " is not a token id");
    if (value < 0 || value >= n_vocab)
      return make_error("token id " + std::to_string(value) + " is outside the vocabulary (0.." +
                        std::to_string(n_vocab - 1) + ")");
    ids.push_back(static_cast<int32_t>(value));
    i = static_cast<size_t>(end - text.data());
  }
  return ids;
}

int run_detokenize(const DetokenizeArgs& args) {
  if (args.ids.empty() == args.file.empty()) {
    std::cerr << "scout detokenize: give the ids after '--' or a file with --file (exactly one of them)\n";
    return kExitUsage;
  }
  auto tok = load_tokenizer(args.model);
  if (!tok) {
    std::cerr << "scout detokenize: " << tok.error().message << "\n";
    return kExitModelError;
  }
  std::vector<std::string> inputs;
  if (!args.file.empty()) {
    auto lines = read_lines(args.file);
    if (!lines) {
      std::cerr << "scout detokenize: " << lines.error().message << "\n";
      return kExitModelError;
    }
    inputs = std::move(*lines);
  } else {
    inputs.push_back(joined(args.ids, " "));
  }
  for (size_t n = 0; n < inputs.size(); ++n) {
    auto ids = parse_ids(inputs[n], tok->n_vocab());
    if (!ids) {
      std::cerr << "scout detokenize: " << (args.file.empty() ? "" : args.file + ":" + std::to_string(n + 1) + ": ")
                << ids.error().message << "\n";
      return kExitUsage;
    }
    const std::string text = tok->decode(*ids);
    if (args.json)
      std::cout << nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    else
      std::cout << text << (args.file.empty() ? "" : "\n");
  }
  if (!args.json && args.file.empty()) std::cout << "\n";
  return kExitOk;
}

}  // namespace

void register_tokenize(CLI::App& app, int& exit_code) {
  auto t = std::make_shared<TokenizeArgs>();
  auto* tokenize = app.add_subcommand("tokenize", "Print the token ids of a text with a model's vocabulary");
  tokenize->add_option("-m,--model", t->model, "GGUF file whose vocabulary to use")->required();
  tokenize->add_option("text", t->text, "Text to tokenize (put it after '--' so any text can be passed)");
  tokenize->add_option("--file", t->file, "Tokenize each line of this file");
  tokenize->add_flag("--json", t->json, "One JSON array of ids (one per line with --file)");
  tokenize->add_flag("--no-add-special", t->no_add_special, "Do not add the BOS/EOS tokens the vocabulary asks for");
  tokenize->add_flag("--no-parse-special", t->no_parse_special,
                     "Treat special-token text such as <|im_start|> as plain text");
  tokenize->callback([t, &exit_code] { exit_code = run_tokenize(*t); });

  auto d = std::make_shared<DetokenizeArgs>();
  auto* detokenize = app.add_subcommand("detokenize", "Turn token ids back into text with a model's vocabulary");
  detokenize->add_option("-m,--model", d->model, "GGUF file whose vocabulary to use")->required();
  detokenize->add_option("ids", d->ids, "Ids as '1 2 3', '1,2,3' or '[1,2,3]' (after '--')");
  detokenize->add_option("--file", d->file, "Detokenize each line of this file (one id list per line)");
  detokenize->add_flag("--json", d->json, "Print each text as a JSON string");
  detokenize->callback([d, &exit_code] { exit_code = run_detokenize(*d); });
}

}  // namespace scout::cli
