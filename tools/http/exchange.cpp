// One HTTP exchange on a connected stream (see client_detail.h).
//
// Reading is done by hand: raw reads with a per-read expiry (the idle timeout, bounded by the
// total deadline) are fed to a Beast basic_parser through put(), whose callbacks pass body bytes
// through the decoder to the body or the sink. The parser never owns a body buffer, so a large
// or endless body costs no more memory than one read plus the cap.
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include "common/text.h"
#include "tools/http/client_detail.h"
#include "tools/http/inflate.h"

namespace scout::tools::http::detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxUnparsed = 1 << 20;  // a framing line (header, chunk size) longer than this is an attack
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr int kMaxInterimResponses = 8;

// ---- the response parser ----------------------------------------------------------------------

// Collects the status line and header fields; body bytes go to on_body (which returns false to
// stop: the parser then reports an error that the read loop recognises as "stop").
class ResponseParser final : public bhttp::basic_parser<false> {
 public:
  int status = 0;
  std::string reason;
  std::vector<Header> headers;
  std::function<bool(std::string_view)> on_body;
  bool body_stopped = false;

 private:
  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int, error_code&) override {}
  void on_response_impl(int code, beast::string_view reason_phrase, int version, error_code& ec) override {
    if (version != 10 && version != 11) ec = bhttp::error::bad_version;
    // Beast reads any three digits; a status is 100-999 (its first digit says its class).
    if (code < 100) ec = bhttp::error::bad_status;
    status = code;
    reason = std::string(reason_phrase);
  }
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value, error_code&) override {
    headers.emplace_back(std::string(name), std::string(value));
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, error_code& ec) override { return take(body, ec); }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code& ec) override {
    return take(body, ec);
  }
  void on_finish_impl(error_code&) override {}

  std::size_t take(beast::string_view body, error_code& ec) {
    if (on_body && !on_body(std::string_view(body.data(), body.size()))) {
      body_stopped = true;
      ec = asio::error::operation_aborted;  // ends put(); the read loop checks body_stopped
    }
    return body.size();
  }
};

bool is_redirect(int status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

}  // namespace

template <class Stream>
asio::awaitable<HttpResult<HopOutcome>> exchange(Stream& stream, const Url& url, const std::string& request_text,
                                                 bool head_request, FetchState& st) {
  const std::string where = shown_url(url);
  auto io_error = [&](const error_code& ec, const Expiry& expiry, const char* doing) -> HttpError {
    if (ec == beast::error::timeout) {
      if (expiry.total) return total_timeout_error(st, url);
      return make_http_error(ErrorKind::timeout, std::string("no data from ") + url.host + " for " +
                                                     seconds_text(st.options.idle_timeout) + " (the idle timeout) while " +
                                                     doing + " " + where);
    }
    if (ec == asio::error::operation_aborted)
      return make_http_error(ErrorKind::cancelled, "the fetch of " + where + " was cancelled");
    return make_http_error(ErrorKind::closed, std::string("the connection to ") + url.host + " failed while " + doing +
                                                  " " + where + ": " + ec.message());
  };

  Expiry expiry = expiry_for(st, st.options.idle_timeout);
  beast::get_lowest_layer(stream).expires_after(expiry.duration);
  auto [wec, written] = co_await asio::async_write(stream, asio::buffer(request_text), asio::as_tuple(asio::use_awaitable));
  (void)written;
  if (wec) co_return Unexpected(io_error(wec, expiry, "sending the request to"));

  HopOutcome outcome;
  Response& response = outcome.response;
  std::optional<ResponseParser> parser;
  auto new_parser = [&] {
    parser.emplace();
    parser->header_limit(kHeaderLimit);
    parser->body_limit(boost::none);
    parser->skip(head_request);
  };
  new_parser();

  // Body plumbing, set up once the final header is in.
  std::optional<Inflater> inflater;
  bool streaming = false;
  std::size_t delivered = 0;
  bool stop = false;
  std::string decode_error;
  auto deliver = [&](std::string_view piece) -> bool {
    const std::size_t cap = st.options.max_body_bytes;
    if (delivered + piece.size() > cap) {
      piece = piece.substr(0, cap - delivered);
      response.truncated = true;
      stop = true;
    }
    delivered += piece.size();
    if (!piece.empty()) {
      if (streaming) {
        if (!(*st.sink)(piece)) stop = true;
      } else {
        response.body.append(piece);
      }
    }
    return !stop;
  };
  std::size_t raw_bytes = 0;
  auto on_raw_body = [&](std::string_view raw) -> bool {
    raw_bytes += raw.size();
    if (!inflater) return deliver(raw);
    if (!inflater->feed(raw, deliver)) {
      decode_error = inflater->error();
      return false;
    }
    return !stop;
  };

  beast::flat_buffer buffer;
  bool header_handled = false;
  int interim_responses = 0;
  for (;;) {
    if (buffer.size() > 0) {
      error_code pec;
      const std::size_t used = parser->put(buffer.data(), pec);
      buffer.consume(used);
      if (!decode_error.empty())
        co_return Unexpected(make_http_error(ErrorKind::protocol, "the compressed body from " + where +
                                                                      " could not be decoded: " + decode_error));
      if (stop || parser->body_stopped) break;
      if (pec && pec != bhttp::error::need_more)
        co_return Unexpected(make_http_error(ErrorKind::protocol, "malformed HTTP response from " + url.host + " (" +
                                                                      where + "): " + pec.message()));
      if (parser->is_header_done() && !header_handled) {
        if (parser->status / 100 == 1 && parser->status != 101) {  // interim response: the real one follows
          if (++interim_responses > kMaxInterimResponses)
            co_return Unexpected(make_http_error(ErrorKind::protocol, "malformed HTTP response from " + url.host + " (" + where +
                                                                          "): more than " + std::to_string(kMaxInterimResponses) +
                                                                          " interim (1xx) responses"));
          new_parser();
          continue;
        }
        header_handled = true;
        response.status = parser->status;
        response.reason = parser->reason;
        response.headers = parser->headers;
        const std::string_view location = find_header(response.headers, "Location");
        if (is_redirect(response.status) && !location.empty() && st.options.max_redirects > 0) {
          outcome.location = trim(location);
          co_return outcome;  // the body of a redirect is not read
        }
        if (st.options.decode_content) {
          const std::string encoding = ascii_lower(trim(find_header(response.headers, "Content-Encoding")));
          if (encoding == "gzip" || encoding == "x-gzip") {
            inflater.emplace(Inflater::Format::gzip);
          } else if (encoding == "deflate") {
            inflater.emplace(Inflater::Format::deflate);
          } else if (!encoding.empty() && encoding != "identity") {
            co_return Unexpected(make_http_error(ErrorKind::protocol, "the response from " + where +
                                                                          " uses Content-Encoding \"" + encoding.substr(0, 40) +
                                                                          "\", which is not supported"));
          }
        }
        streaming = st.sink != nullptr && response.status / 100 == 2;
        if (streaming && st.on_head && *st.on_head) (*st.on_head)(response);
        parser->on_body = on_raw_body;
        parser->eager(true);
        // A response without a body (HEAD, 1xx, 204, 304) is complete with its header: bytes
        // after it in the same read are not this response's, and the parser takes no more.
        if (parser->is_done()) break;
        continue;  // parse whatever body bytes are already buffered
      }
      if (parser->is_done()) break;
      if (used > 0 && buffer.size() > 0) continue;
    }
    if (parser->is_done()) break;
    if (buffer.size() > kMaxUnparsed)
      co_return Unexpected(make_http_error(ErrorKind::protocol, "malformed HTTP response from " + url.host + " (" + where +
                                                                    "): a header or chunk line is too long"));
    expiry = expiry_for(st, st.options.idle_timeout);
    if (expiry.duration <= Clock::duration::zero()) co_return Unexpected(total_timeout_error(st, url));
    beast::get_lowest_layer(stream).expires_after(expiry.duration);
    auto [rec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), asio::as_tuple(asio::use_awaitable));
    if (rec == asio::error::eof || rec == ssl::error::stream_truncated) {
      if (!parser->is_header_done())
        co_return Unexpected(make_http_error(ErrorKind::closed, "the server " + url.host +
                                                                    " closed the connection before sending a complete response header (" +
                                                                    where + ")"));
      error_code eec;
      parser->put_eof(eec);
      if (eec) {
        co_return Unexpected(make_http_error(ErrorKind::closed, "the server " + url.host + " closed the connection before the whole body of " +
                                                                    where + " was sent (" + std::to_string(delivered) +
                                                                    " bytes received)"));
      }
      break;
    }
    if (rec)
      co_return Unexpected(io_error(rec, expiry, header_handled ? "reading the body of" : "waiting for the response from"));
    buffer.commit(n);
  }
  if (!header_handled) {  // a HEAD or body-less response finished within the first put
    response.status = parser->status;
    response.reason = parser->reason;
    response.headers = parser->headers;
  }
  // An empty body is accepted whatever its Content-Encoding says (servers send that).
  if (parser->is_done() && inflater && !inflater->finished() && !stop && raw_bytes > 0)
    co_return Unexpected(make_http_error(ErrorKind::protocol, "the compressed body from " + where + " ended before the compressed stream did"));
  co_return outcome;
}

template asio::awaitable<HttpResult<HopOutcome>> exchange(beast::tcp_stream&, const Url&, const std::string&, bool, FetchState&);
template asio::awaitable<HttpResult<HopOutcome>> exchange(ssl::stream<beast::tcp_stream>&, const Url&, const std::string&, bool,
                                                          FetchState&);

}  // namespace scout::tools::http::detail
