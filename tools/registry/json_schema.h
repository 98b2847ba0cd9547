// Argument validation against the practical subset of JSON Schema that function-calling models
// are given: type (string, number, integer, boolean, object, array, null, or a list of them),
// properties, required, additionalProperties (false or a schema), enum, const, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum, minLength, maxLength (in code points), items, minItems,
// maxItems, and default. Other keywords (description, title, format, ...) are ignored.
//
// Errors name the path of the offending value ("arguments.options.depth") and say what was
// expected and what was found, because the reader is a model that has to correct its call.
#pragma once

#include <string>
#include <vector>

#include "tools/registry/tool.h"

namespace scout::tools {

struct SchemaViolation {
  std::string path;     // e.g. "arguments.items[2]"
  std::string message;  // the whole sentence, path included
};

// Fills in `default` values for missing properties that are not required (recursively, inside
// objects that are present), then validates. `value` is modified in place only by defaults.
// Returns every violation found, in document order; empty means valid.
std::vector<SchemaViolation> validate_and_apply_defaults(const Json& schema, Json& value,
                                                         const std::string& root = "arguments");

// Short description of a JSON value for error messages: its type and, if small, the value.
std::string describe_json_value(const Json& value);

}  // namespace scout::tools
