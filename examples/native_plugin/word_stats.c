/* word_stats: an example Scout native tool plugin in plain C (see plugins/native/scout_plugin.h
 * and docs/PLUGINS.md).
 *
 *   count_words {text}     words, characters (code points), bytes and lines of a text
 *   nth_word    {text, n}  the n-th word; an n past the last word is an error the model can fix
 *
 * Build on its own:  cc -std=c11 -O2 -Wall -Wextra -shared -fPIC -fvisibility=hidden \
 *                       -I path/to/scout/plugins/native word_stats.c -o word_stats.so
 *
 * Thread-safety: no global state, so invoke is reentrant and Scout may call it concurrently.
 * Results are allocated with malloc and freed by free_result. Scout validates the arguments
 * against each tool's schema before calling, so the reader below only has to find members of a
 * well-formed JSON object; it still fails safely on anything else.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scout_plugin.h"

/* ---- Reading the arguments: just enough JSON to find a top-level member ---- */

static const char* skip_ws(const char* p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') ++p;
  return p;
}

static int hex4(const char* p, unsigned* out) {
  unsigned v = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static size_t put_utf8(char* out, unsigned cp) {
  if (cp < 0x80) { out[0] = (char)cp; return 1; }
  if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F)); return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F)); return 4;
}

/* Parses the JSON string at p (at its opening quote) into out, which must hold strlen(p) bytes:
 * unescaped text is never longer than its escaped form. Returns the position after the closing
 * quote, or NULL for a malformed string. */
static const char* read_string(const char* p, char* out, size_t* out_len) {
  size_t n = 0;
  if (*p++ != '"') return NULL;
  while (*p != '"') {
    if (*p == '\0') return NULL;
    if (*p != '\\') { out[n++] = *p++; continue; }
    ++p;
    switch (*p) {
      case '"': case '\\': case '/': out[n++] = *p; break;
      case 'b': out[n++] = '\b'; break;
      case 'f': out[n++] = '\f'; break;
      case 'n': out[n++] = '\n'; break;
      case 'r': out[n++] = '\r'; break;
      case 't': out[n++] = '\t'; break;
      case 'u': {
        unsigned cp = 0, low = 0;
        if (!hex4(p + 1, &cp)) return NULL;
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && p[1] == '\\' && p[2] == 'u' && hex4(p + 3, &low) &&
            low >= 0xDC00 && low <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          p += 6;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
          cp = 0xFFFD; /* a lone surrogate */
        }
        n += put_utf8(out + n, cp);
        break;
      }
      default: return NULL;
    }
    ++p;
  }
  out[n] = '\0';
  if (out_len) *out_len = n;
  return p + 1;
}

/* Skips one JSON value; returns the position after it, or NULL. */
static const char* skip_value(const char* p) {
  int depth = 0;
  do {
    p = skip_ws(p);
    if (*p == '"') {
      ++p;
      while (*p != '"') {
        if (*p == '\0') return NULL;
        if (*p == '\\' && p[1] != '\0') ++p;
        ++p;
      }
      ++p;
    } else if (*p == '{' || *p == '[') {
      ++depth;
      ++p;
    } else if (*p == '}' || *p == ']') {
      if (--depth < 0) return NULL;
      ++p;
    } else if (*p == ',' || *p == ':') {
      if (depth == 0) return NULL;
      ++p;
    } else if (*p == '\0') {
      return NULL;
    } else {
      while (*p && !strchr(",:{}[]\" \t\r\n", *p)) ++p;
    }
  } while (depth > 0);
  return p;
}

/* The start of the value of top-level member `key` in the object `json`, or NULL. */
static const char* find_member(const char* json, const char* key) {
  char* name = malloc(strlen(json) + 1);
  const char* p = skip_ws(json);
  const char* found = NULL;
  if (!name || *p++ != '{') goto done;
  for (;;) {
    p = skip_ws(p);
    if (*p == '}') break;
    if (!(p = read_string(p, name, NULL))) break;
    p = skip_ws(p);
    if (*p++ != ':') break;
    p = skip_ws(p);
    if (strcmp(name, key) == 0) { found = p; break; }
    if (!(p = skip_value(p))) break;
    p = skip_ws(p);
    if (*p++ != ',') break;
  }
done:
  free(name);
  return found;
}

/* The string member `key`, unescaped and malloc'd, or NULL. */
static char* string_arg(const char* json, const char* key, size_t* len) {
  const char* v = find_member(json, key);
  if (!v || *v != '"') return NULL;
  char* out = malloc(strlen(v) + 1);
  if (out && !read_string(v, out, len)) { free(out); out = NULL; }
  return out;
}

static int integer_arg(const char* json, const char* key, long long* out) {
  const char* v = find_member(json, key);
  char* end = NULL;
  if (!v) return 0;
  *out = strtoll(v, &end, 10);
  return end != v;
}

/* ---- Writing the result: {"text": ..., "structured": {...}} ---- */

typedef struct {
  char* data;
  size_t len, cap;
  int failed; /* an allocation failed: the result is dropped and invoke returns NULL */
} buffer;

static void append(buffer* b, const char* s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (b->len + n + 1 > cap) cap *= 2;
    char* data = realloc(b->data, cap);
    if (!data) { b->failed = 1; return; }
    b->data = data;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void appendf(buffer* b, const char* format, ...) {
  char piece[256];
  va_list args;
  va_start(args, format);
  const int n = vsnprintf(piece, sizeof piece, format, args);
  va_end(args);
  if (n < 0 || (size_t)n >= sizeof piece) { b->failed = 1; return; }
  append(b, piece, (size_t)n);
}

/* A JSON string literal: quotes, backslashes and control characters escaped, UTF-8 as is. */
static void append_json_string(buffer* b, const char* s, size_t n) {
  append(b, "\"", 1);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') { append(b, "\\", 1); append(b, (const char*)&s[i], 1); }
    else if (c < 0x20) appendf(b, "\\u%04x", c);
    else append(b, (const char*)&s[i], 1);
  }
  append(b, "\"", 1);
}

static char* finish(buffer* b) {
  if (b->failed) { free(b->data); return NULL; }
  return b->data;
}

static char* error_result(int* is_error, const char* message) {
  buffer b = {0};
  *is_error = 1;
  append(&b, "{\"text\":", 8);
  append_json_string(&b, message, strlen(message));
  append(&b, "}", 1);
  return finish(&b);
}

/* ---- The tools ---- */

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Calls back for each word (a run of non-space bytes); stops when `visit` returns 0. */
static size_t for_each_word(const char* text, size_t len, int (*visit)(const char*, size_t, size_t, void*), void* ctx) {
  size_t count = 0, i = 0;
  while (i < len) {
    while (i < len && is_space((unsigned char)text[i])) ++i;
    if (i == len) break;
    const size_t start = i;
    while (i < len && !is_space((unsigned char)text[i])) ++i;
    ++count;
    if (visit && !visit(text + start, i - start, count, ctx)) break;
  }
  return count;
}

static char* count_words(const char* arguments, int* is_error) {
  size_t len = 0;
  char* text = string_arg(arguments, "text", &len);
  if (!text) return error_result(is_error, "count_words needs a string argument 'text'.");
  size_t characters = 0, lines = 0;
  for (size_t i = 0; i < len; ++i) {
    if (((unsigned char)text[i] & 0xC0) != 0x80) ++characters; /* not a UTF-8 continuation byte */
    if (text[i] == '\n') ++lines;
  }
  if (len > 0 && text[len - 1] != '\n') ++lines;
  const size_t words = for_each_word(text, len, NULL, NULL);
  free(text);

  buffer b = {0};
  appendf(&b, "{\"text\":\"%zu words, %zu characters, %zu lines (%zu bytes)\",", words, characters, lines, len);
  appendf(&b, "\"structured\":{\"words\":%zu,\"characters\":%zu,\"lines\":%zu,\"bytes\":%zu}}", words, characters,
          lines, len);
  return finish(&b);
}

typedef struct {
  size_t wanted;
  const char* word;
  size_t word_len;
} nth_search;

static int visit_nth(const char* word, size_t len, size_t index, void* ctx) {
  nth_search* s = ctx;
  if (index != s->wanted) return 1;
  s->word = word;
  s->word_len = len;
  return 0;
}

static char* nth_word(const char* arguments, int* is_error) {
  size_t len = 0;
  long long n = 0;
  char* text = string_arg(arguments, "text", &len);
  if (!text || !integer_arg(arguments, "n", &n) || n < 1) {
    free(text);
    return error_result(is_error, "nth_word needs a string 'text' and an integer 'n' of at least 1.");
  }
  nth_search search = {(size_t)n, NULL, 0};
  for_each_word(text, len, visit_nth, &search);
  if (!search.word) {
    const size_t total = for_each_word(text, len, NULL, NULL);
    char message[160];
    if (total == 0) snprintf(message, sizeof message, "The text has no words.");
    else snprintf(message, sizeof message, "The text has only %zu word%s; ask for n between 1 and %zu.", total,
                  total == 1 ? "" : "s", total);
    free(text);
    return error_result(is_error, message);
  }
  buffer b = {0};
  append(&b, "{\"text\":", 8);
  append_json_string(&b, search.word, search.word_len);
  appendf(&b, ",\"structured\":{\"n\":%lld,\"word\":", n);
  append_json_string(&b, search.word, search.word_len);
  append(&b, "}}", 2);
  free(text);
  return finish(&b);
}

static char* invoke(const char* tool_name, const char* arguments_json, int* is_error) {
  if (strcmp(tool_name, "count_words") == 0) return count_words(arguments_json, is_error);
  if (strcmp(tool_name, "nth_word") == 0) return nth_word(arguments_json, is_error);
  return error_result(is_error, "word_stats has no such tool.");
}

static void free_result(char* result) { free(result); }

static const scout_tool kTools[] = {
    {"count_words", "Counts the words, characters (Unicode code points), lines and bytes of a text.",
     "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\",\"description\":\"The text to count\"}},"
     "\"required\":[\"text\"],\"additionalProperties\":false}"},
    {"nth_word", "Returns the n-th word (counting from 1) of a text; words are separated by white space.",
     "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\",\"description\":\"The text\"},"
     "\"n\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"Which word, from 1\"}},"
     "\"required\":[\"text\",\"n\"],\"additionalProperties\":false}"},
};

static const scout_plugin kPlugin = {
    SCOUT_PLUGIN_ABI_VERSION,
    sizeof(scout_plugin),
    "word_stats",
    "1.0.0",
    sizeof kTools / sizeof kTools[0],
    kTools,
    invoke,
    free_result,
};

SCOUT_PLUGIN_EXPORT const scout_plugin* SCOUT_PLUGIN_ENTRY(void) { return &kPlugin; }
