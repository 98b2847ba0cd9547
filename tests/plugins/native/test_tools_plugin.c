/* A plugin that loads cleanly but whose tools misbehave on purpose, for the native plugin
 * tests. Every result is counted when allocated and when freed, so a test can check that Scout
 * frees each one (the "counters" tool reports both).
 *
 *   echo_arguments        {"text": <the arguments JSON as text>, "structured": <the arguments>}
 *   fails                 an error result (is_error = 1)
 *   null_result           returns NULL
 *   not_json              returns plain text
 *   bad_utf8              returns a JSON object whose text is not UTF-8
 *   no_text               returns {"structured": {}}
 *   block_until_released  blocks until "release" is called (at most 30 s), then returns
 *   release               lets a blocked call return
 *   counters              {"structured": {"allocated": N, "freed": M}}
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scout_plugin.h"

static atomic_long allocated;
static atomic_long freed;
static atomic_int released;

static char* counted(char* result) {
  if (result) atomic_fetch_add(&allocated, 1);
  return result;
}

static char* text_result(const char* json_text) { return counted(strdup(json_text)); }

/* {"text": "<arguments, quotes and backslashes escaped>", "structured": <arguments>} */
static char* echo(const char* arguments) {
  const size_t n = strlen(arguments);
  char* out = malloc(2 * n + 64);
  if (!out) return NULL;
  char* p = out;
  p += sprintf(p, "{\"text\":\"");
  for (size_t i = 0; i < n; ++i) {
    if (arguments[i] == '"' || arguments[i] == '\\') *p++ = '\\';
    *p++ = arguments[i];
  }
  p += sprintf(p, "\",\"structured\":%s}", arguments);
  return counted(out);
}

static char* block_until_released(void) {
  const struct timespec one_ms = {0, 1000000};
  for (int waited_ms = 0; waited_ms < 30000 && !atomic_load(&released); ++waited_ms) nanosleep(&one_ms, NULL);
  const int was_released = atomic_exchange(&released, 0);
  return text_result(was_released ? "{\"text\":\"released\"}" : "{\"text\":\"gave up waiting\"}");
}

static char* invoke(const char* tool, const char* arguments, int* is_error) {
  if (strcmp(tool, "echo_arguments") == 0) return echo(arguments);
  if (strcmp(tool, "fails") == 0) {
    *is_error = 1;
    return text_result("{\"text\":\"the input was rejected\",\"structured\":{\"code\":7}}");
  }
  if (strcmp(tool, "null_result") == 0) return NULL;
  if (strcmp(tool, "not_json") == 0) return text_result("plain text, not JSON");
  if (strcmp(tool, "bad_utf8") == 0) return text_result("{\"text\":\"caf\xC3\x28\"}");
  if (strcmp(tool, "no_text") == 0) return text_result("{\"structured\":{}}");
  if (strcmp(tool, "block_until_released") == 0) return block_until_released();
  if (strcmp(tool, "release") == 0) {
    atomic_store(&released, 1);
    return text_result("{\"text\":\"ok\"}");
  }
  if (strcmp(tool, "counters") == 0) {
    char buf[128];
    snprintf(buf, sizeof buf, "{\"text\":\"counters\",\"structured\":{\"allocated\":%ld,\"freed\":%ld}}",
             atomic_load(&allocated) + 1, atomic_load(&freed));
    return text_result(buf);
  }
  return NULL;
}

static void free_result(char* result) {
  atomic_fetch_add(&freed, 1);
  free(result);
}

#define OBJECT_SCHEMA "{\"type\":\"object\"}"

static const scout_tool kTools[] = {
    {"echo_arguments", "Returns its arguments.",
     "{\"type\":\"object\",\"properties\":{\"word\":{\"type\":\"string\"},\"times\":{\"type\":\"integer\",\"default\":2}}}"},
    {"fails", "Reports an error.", OBJECT_SCHEMA},
    {"null_result", "Returns NULL.", OBJECT_SCHEMA},
    {"not_json", "Returns plain text.", OBJECT_SCHEMA},
    {"bad_utf8", "Returns text that is not UTF-8.", OBJECT_SCHEMA},
    {"no_text", "Returns an object without text.", OBJECT_SCHEMA},
    {"block_until_released", "Blocks until released.", OBJECT_SCHEMA},
    {"release", "Releases a blocked call.", OBJECT_SCHEMA},
    {"counters", "Counts results allocated and freed.", OBJECT_SCHEMA},
};

static const scout_plugin kPlugin = {
    SCOUT_PLUGIN_ABI_VERSION, sizeof(scout_plugin), "test_tools", "0.1", sizeof kTools / sizeof kTools[0],
    kTools, invoke, free_result,
};

SCOUT_PLUGIN_EXPORT const scout_plugin* SCOUT_PLUGIN_ENTRY(void) { return &kPlugin; }
