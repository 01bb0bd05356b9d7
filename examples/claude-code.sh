#!/bin/sh
# Claude Code: register pyro's MCP server (profile workspace-core, the default).
# Add `--scope project` to share it through the repository's .mcp.json.
claude mcp add pyro -- npx -y pyro-mcp mcp serve
