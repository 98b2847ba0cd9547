/* scout_plugin.h: the C ABI of Scout's native tool plugins. Self-contained (C99 or C++, no
 * Scout headers); copy it into a plugin's source tree as it is.
 *
 * A native plugin is a shared library (built with -shared -fPIC) that exports one function,
 * SCOUT_PLUGIN_ENTRY, returning a descriptor: the plugin's name and version, its tools (name,
 * description, JSON Schema of the arguments) and two functions, invoke and free_result. Scout
 * loads it with dlopen(RTLD_NOW | RTLD_LOCAL) from a [[plugins.native]] entry of its config,
 * checks everything below at load, and offers each tool to the model beside the built-in ones.
 *
 *   #include "scout_plugin.h"
 *   static const scout_tool tools[] = {{"shout", "Upper-cases a text.",
 *       "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}"}};
 *   static char* invoke(const char* tool, const char* arguments_json, int* is_error) { ... }
 *   static void free_result(char* result) { free(result); }
 *   static const scout_plugin plugin = {SCOUT_PLUGIN_ABI_VERSION, sizeof(scout_plugin), "shout", "1.0",
 *                                       1, tools, invoke, free_result};
 *   SCOUT_PLUGIN_EXPORT const scout_plugin* SCOUT_PLUGIN_ENTRY(void) { return &plugin; }
 *
 * LOADING. Scout calls SCOUT_PLUGIN_ENTRY right after each dlopen, on the loading thread. The
 * descriptor and everything it points to (strings, the tools array) must stay valid and
 * unchanged until the library is unloaded; static constants are the natural choice. Scout
 * refuses the plugin, naming the reason, when: the entry symbol is missing or returns NULL;
 * abi_version is not the SCOUT_PLUGIN_ABI_VERSION Scout was built with; struct_size is smaller
 * than version 1's descriptor; name, invoke or free_result is NULL; tool_count is 0 or over
 * SCOUT_PLUGIN_MAX_TOOLS; a tool's name is not 1 to 64 letters, digits, '_' or '-', or repeats
 * another's; a description is NULL or not UTF-8; a schema is not a JSON object of
 * "type": "object". A refused plugin is reported and left out; Scout runs on without it.
 *
 * CALLING. invoke(tool_name, arguments_json, is_error) is called with one of the plugin's own
 * tool names and the arguments as a NUL-terminated UTF-8 JSON object, already validated against
 * the tool's schema (defaults filled in). Both strings belong to Scout and are valid only
 * during the call. *is_error is 0 on entry.
 *
 * RESULT FORMAT. invoke returns a NUL-terminated UTF-8 JSON object, allocated by the plugin:
 *     {"text": "what the model reads", "structured": <any JSON, optional>}
 * "text" (a string) is required; "structured" is machine-readable detail for traces and front
 * ends; other keys are reserved and ignored. Results over SCOUT_PLUGIN_MAX_RESULT_BYTES are
 * refused. A NULL result, invalid JSON or UTF-8, or an object without a string "text" is a
 * fault of the plugin: the model is told the tool failed, and the run goes on.
 *
 * ERRORS. A failure the model can act on (an index out of range, a file that does not exist)
 * is a normal result with *is_error set to non-zero; "text" says what went wrong and how to fix
 * the call. Never abort, exit or let a C++ exception cross invoke: they take Scout down with
 * the plugin.
 *
 * OWNERSHIP. Every non-NULL pointer invoke returns is passed back to the same plugin's
 * free_result exactly once, from some worker thread, after Scout has copied it. Scout never
 * frees it any other way, so the plugin may use any allocator (malloc/free is typical).
 *
 * THREAD-SAFETY. invoke and free_result run on Scout's worker threads, and invoke may be called
 * concurrently, for the same tool or different ones: a plugin must be reentrant or take its own
 * locks. A call is never interrupted: when Scout cancels it (its deadline passed, the user
 * pressed Ctrl-C) the call runs on to its end on its worker and its result is freed unread, so
 * keep calls short or bounded.
 *
 * UNLOADING. The library stays loaded while any of its tools is registered or any call is in
 * flight; Scout then calls dlclose. There is no shutdown hook in version 1 (a library
 * destructor, __attribute__((destructor)), can release global state).
 *
 * ABI EVOLUTION. abi_version is the first field of the descriptor in every version and never
 * moves. Compatible additions to scout_plugin are appended at its end only; struct_size (what
 * sizeof(scout_plugin) was when the plugin was built) tells Scout which of them a plugin has,
 * and a field beyond it is read as absent. scout_tool, the signatures and the rules above are
 * fixed within a version; changing them raises SCOUT_PLUGIN_ABI_VERSION, and Scout refuses
 * plugins built for another version with a message asking for a rebuild.
 */
#ifndef SCOUT_PLUGIN_H
#define SCOUT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCOUT_PLUGIN_ABI_VERSION 1

/* The entry symbol every plugin exports, as a C identifier and as the name dlsym looks up. */
#define SCOUT_PLUGIN_ENTRY scout_plugin_entry
#define SCOUT_PLUGIN_ENTRY_NAME "scout_plugin_entry"

#define SCOUT_PLUGIN_MAX_TOOLS 256
#define SCOUT_PLUGIN_MAX_RESULT_BYTES (16u * 1024u * 1024u)

/* Makes the entry symbol visible even when the library is built with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define SCOUT_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SCOUT_PLUGIN_EXPORT
#endif

/* One tool. All three strings are NUL-terminated UTF-8. */
typedef struct scout_tool {
  const char* name;              /* 1 to 64 of [A-Za-z0-9_-]; unique among all of Scout's tools */
  const char* description;       /* one or two sentences telling the model when to use it */
  const char* parameters_schema; /* JSON Schema text of the arguments: {"type": "object", ...} */
} scout_tool;

/* See CALLING, RESULT FORMAT and ERRORS above. */
typedef char* (*scout_invoke_fn)(const char* tool_name, const char* arguments_json, int* is_error);
/* See OWNERSHIP above. */
typedef void (*scout_free_result_fn)(char* result);

/* The plugin descriptor (ABI version 1). */
typedef struct scout_plugin {
  uint32_t abi_version;   /* SCOUT_PLUGIN_ABI_VERSION, as the plugin was built */
  uint32_t struct_size;   /* sizeof(scout_plugin), as the plugin was built */
  const char* name;       /* for messages, e.g. "word_stats" */
  const char* version;    /* the plugin's own version, e.g. "1.2.0"; may be NULL */
  size_t tool_count;      /* 1 to SCOUT_PLUGIN_MAX_TOOLS */
  const scout_tool* tools;
  scout_invoke_fn invoke;
  scout_free_result_fn free_result;
  /* Version 1 ends here. New fields go below this line only. */
} scout_plugin;

typedef const scout_plugin* (*scout_plugin_entry_fn)(void);

/* Defined by the plugin: returns its descriptor (never NULL for a working plugin). */
SCOUT_PLUGIN_EXPORT const scout_plugin* SCOUT_PLUGIN_ENTRY(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SCOUT_PLUGIN_H */
