#!/usr/bin/env node
// The official OpenAI client (the `openai` npm package) against an OpenAI-compatible server:
// proves that Scout's replay server speaks the real protocol, as a real client reads it.
//
//   node openai_client_stream.mjs BASE_URL MODEL
//
// Makes three requests and prints one JSON object:
//   {"models": [ids from GET /models],
//    "raw": the first streamed turn, read chunk by chunk with create({stream: true}):
//           {"content", "reasoning", "tool_calls": [{"id", "name", "arguments"}] (by index),
//            "finish_reason", "usage", "chunks"},
//    "helper": the second streamed turn, assembled by the client's own ChatCompletionStream
//              helper (client.chat.completions.stream): {"content", "tool_calls", "finish_reason"}}
// Exits non-zero (with the client's error on stderr) when the client rejects what it received.
import OpenAI from "openai";

const [baseURL, model] = process.argv.slice(2);
if (!baseURL || !model) {
  process.stderr.write("usage: node openai_client_stream.mjs BASE_URL MODEL\n");
  process.exit(2);
}

const client = new OpenAI({ baseURL, apiKey: "sk-reference-client", maxRetries: 0, timeout: 30000 });
const tools = [{
  type: "function",
  function: {
    name: "web_search",
    description: "Searches the web.",
    parameters: { type: "object", properties: { query: { type: "string" } }, required: ["query"] },
  },
}];
const messages = [{ role: "user", content: "What is the weather in Paris?" }];

try {
  const models = [];
  for await (const m of client.models.list()) models.push(m.id);

  const raw = { content: "", reasoning: "", tool_calls: [], finish_reason: null, usage: null, chunks: 0 };
  const stream = await client.chat.completions.create({
    model, messages, tools, stream: true, stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    raw.chunks += 1;
    if (chunk.usage) raw.usage = chunk.usage;
    for (const choice of chunk.choices) {
      const delta = choice.delta ?? {};
      if (delta.content) raw.content += delta.content;
      if (delta.reasoning_content) raw.reasoning += delta.reasoning_content;
      for (const tc of delta.tool_calls ?? []) {
        const slot = (raw.tool_calls[tc.index] ??= { id: "", name: "", arguments: "" });
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.name += tc.function.name;
        if (tc.function?.arguments) slot.arguments += tc.function.arguments;
      }
      if (choice.finish_reason) raw.finish_reason = choice.finish_reason;
    }
  }

  const helperStream = client.chat.completions.stream({ model, messages, tools });
  const final = await helperStream.finalChatCompletion();
  const message = final.choices[0].message;
  const helper = {
    content: message.content ?? "",
    tool_calls: (message.tool_calls ?? []).map((tc) => ({
      id: tc.id, name: tc.function.name, arguments: tc.function.arguments,
    })),
    finish_reason: final.choices[0].finish_reason,
  };

  process.stdout.write(JSON.stringify({ models, raw, helper }));
} catch (e) {
  process.stderr.write(`openai client error: ${e?.stack ?? e}\n`);
  process.exit(1);
}
