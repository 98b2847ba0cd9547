/* Plugins that break one rule of scout_plugin.h each, for the loader's tests. Built once per
 * fault, with -DFAULT_<NAME> (see tests/plugins/CMakeLists.txt):
 *   FAULT_ABI_MISMATCH     built for ABI version 999
 *   FAULT_NO_ENTRY         exports no scout_plugin_entry
 *   FAULT_NULL_DESCRIPTOR  scout_plugin_entry returns NULL
 *   FAULT_BAD_SCHEMA       a tool's schema is not JSON
 *   FAULT_DUPLICATE_NAMES  two tools share a name
 *   FAULT_BAD_NAME         a tool's name has a '.'
 */
#include <stdlib.h>

#include "scout_plugin.h"

static char* invoke(const char* tool_name, const char* arguments_json, int* is_error) {
  (void)tool_name;
  (void)arguments_json;
  (void)is_error;
  return NULL;
}

static void free_result(char* result) { free(result); }

#define OBJECT_SCHEMA "{\"type\":\"object\"}"

static const scout_tool kTools[] = {
#if defined(FAULT_BAD_SCHEMA)
    {"fine", "A tool.", OBJECT_SCHEMA},
    {"broken_schema", "A tool whose schema is cut short.", "{\"type\": \"object\", \"properties\": {"},
#elif defined(FAULT_DUPLICATE_NAMES)
    {"twin", "A tool.", OBJECT_SCHEMA},
    {"twin", "Another tool of the same name.", OBJECT_SCHEMA},
#elif defined(FAULT_BAD_NAME)
    {"files.read", "A dotted name.", OBJECT_SCHEMA},
#else
    {"fine", "A tool.", OBJECT_SCHEMA},
#endif
};

static const scout_plugin kPlugin = {
#if defined(FAULT_ABI_MISMATCH)
    999,
#else
    SCOUT_PLUGIN_ABI_VERSION,
#endif
    sizeof(scout_plugin),
    "faulty",
    "0",
    sizeof kTools / sizeof kTools[0],
    kTools,
    invoke,
    free_result,
};

#if defined(FAULT_NO_ENTRY)
SCOUT_PLUGIN_EXPORT const scout_plugin* not_the_entry(void) { return &kPlugin; }
#elif defined(FAULT_NULL_DESCRIPTOR)
SCOUT_PLUGIN_EXPORT const scout_plugin* SCOUT_PLUGIN_ENTRY(void) {
  (void)kPlugin;
  return NULL;
}
#else
SCOUT_PLUGIN_EXPORT const scout_plugin* SCOUT_PLUGIN_ENTRY(void) { return &kPlugin; }
#endif
