import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { matchResource } from "../../server/mcp/resources.js";

/**
 * Records which tools, resources and prompts a scenario exercised successfully through real clients, so the test can
 * compare that with what the server lists: a tool, resource or prompt added without end-to-end coverage
 * fails the scenario.
 */
export class Coverage {
  readonly tools = new Set<string>();
  /** Resource names (as in RESOURCES) of every URI read. */
  readonly resources = new Set<string>();
  readonly prompts = new Set<string>();

  /** Start recording the calls `client` makes; returns the client. */
  track(client: Client): Client {
    const callTool = client.callTool.bind(client);
    client.callTool = (async (params, ...rest) => {
      const result = await callTool(params, ...rest);
      if (!result.isError) this.tools.add(params.name);
      return result;
    }) as typeof client.callTool;
    const readResource = client.readResource.bind(client);
    client.readResource = (async (params, ...rest) => {
      const result = await readResource(params, ...rest);
      const found = matchResource(params.uri);
      if (found) this.resources.add(found.spec.name);
      return result;
    }) as typeof client.readResource;
    const getPrompt = client.getPrompt.bind(client);
    client.getPrompt = (async (params, ...rest) => {
      const result = await getPrompt(params, ...rest);
      this.prompts.add(params.name);
      return result;
    }) as typeof client.getPrompt;
    return client;
  }
}
