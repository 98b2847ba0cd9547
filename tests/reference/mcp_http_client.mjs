#!/usr/bin/env node
// The official MCP TypeScript SDK (@modelcontextprotocol/sdk) as a client of a Streamable HTTP
// MCP server: proves that `scout mcp-server --http` speaks the real protocol, as a real client
// reads it.
//
//   node mcp_http_client.mjs URL TOOL 'JSON_ARGUMENTS'
//
// Connects with StreamableHTTPClientTransport (initialize, the session id, the GET stream),
// lists the tools, pings, sets the log level, calls TOOL with a progress callback, ends the
// session with DELETE, and prints one JSON object:
//   {"sessionId", "protocolVersion", "server": serverInfo, "capabilities", "instructions",
//    "tools": [...], "ping": {...}, "setLevel": {...}, "call": the tools/call result,
//    "progress": [the progress notifications' params], "errors": [transport errors before the end]}
// Exits non-zero (with the client's error on stderr) when the client rejects what it received.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, tool, args] = process.argv.slice(2);
if (!url || !tool) {
  process.stderr.write("usage: node mcp_http_client.mjs URL TOOL 'JSON_ARGUMENTS'\n");
  process.exit(2);
}

const client = new Client({ name: "scout-reference-client", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(url));
const errors = [];
transport.onerror = (e) => errors.push(String(e));
await client.connect(transport);

const out = {
  sessionId: transport.sessionId,
  protocolVersion: transport.protocolVersion,
  server: client.getServerVersion(),
  capabilities: client.getServerCapabilities(),
  instructions: client.getInstructions(),
};
out.tools = (await client.listTools()).tools;
out.ping = await client.ping();
out.setLevel = await client.setLoggingLevel("warning");
const progress = [];
out.call = await client.callTool({ name: tool, arguments: JSON.parse(args ?? "{}") }, undefined, {
  onprogress: (p) => progress.push(p),
  timeout: 120000,
});
out.progress = progress;
out.errors = [...errors];  // before the session ends: closing aborts the GET stream on purpose
await transport.terminateSession();
await client.close();
process.stdout.write(JSON.stringify(out) + "\n");
