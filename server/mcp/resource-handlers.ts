import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { isPigeonholeError } from "../../engine/index.js";
import { verifyActor } from "./dispatch.js";
import { matchResource, RESOURCES, type ResourceContext } from "./resources.js";
import type { ServerRuntime } from "./runtime.js";

const JSON_TYPE = "application/json";

/** Turn an engine error into an MCP protocol error carrying the canonical body as data. */
function protocolError(error: unknown): McpError {
  if (error instanceof McpError) return error;
  if (isPigeonholeError(error)) {
    const code = error.code === "NOT_FOUND" ? ErrorCode.InvalidParams : ErrorCode.InvalidRequest;
    return new McpError(code, `${error.code}: ${error.message}`, error.toJSON());
  }
  return new McpError(ErrorCode.InternalError, "Internal error in the Pigeonhole server; see its log.");
}

function resolve(ctx: ResourceContext, uri: string) {
  const found = matchResource(uri);
  if (!found)
    throw new McpError(
      ErrorCode.InvalidParams,
      `No resource at ${uri}; resources/templates/list names them.`,
    );
  const agent = found.spec.agentVar ? found.vars[found.spec.agentVar] : undefined;
  if (agent !== undefined) verifyActor(ctx, agent, undefined);
  return found;
}

/**
 * Serve the resources of RESOURCES on `server`, with `resources/subscribe` on the subscribable ones: new
 * mail to or from the agent in the URI sends `notifications/resources/updated` for that URI.
 */
export function installResourceHandlers(server: Server, runtime: ServerRuntime, ctx: ResourceContext): void {
  const subscriptions = new Map<string, string>();
  let stopListening: (() => void) | undefined;

  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: RESOURCES.filter((r) => !r.template.template.includes("{")).map((r) => ({
      uri: r.template.template,
      name: r.name,
      description: r.description,
      mimeType: JSON_TYPE,
    })),
  }));

  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: RESOURCES.filter((r) => r.template.template.includes("{")).map((r) => ({
      uriTemplate: r.template.template,
      name: r.name,
      description: r.description + (r.subscribable ? " Subscribable." : ""),
      mimeType: JSON_TYPE,
    })),
  }));

  server.setRequestHandler(ReadResourceRequestSchema, (request) => {
    const { uri } = request.params;
    try {
      const { spec, vars } = resolve(ctx, uri);
      const value = spec.read(ctx, vars);
      return { contents: [{ uri, mimeType: JSON_TYPE, text: JSON.stringify(value) }] };
    } catch (error) {
      throw protocolError(error);
    }
  });

  server.setRequestHandler(SubscribeRequestSchema, (request) => {
    const { uri } = request.params;
    try {
      const { spec, vars } = resolve(ctx, uri);
      if (!spec.subscribable || !spec.agentVar) {
        throw new McpError(
          ErrorCode.InvalidParams,
          `${spec.name} resources cannot be subscribed to; inbox and views can.`,
        );
      }
      subscriptions.set(uri, (vars[spec.agentVar] as string).toLowerCase());
      stopListening ??= runtime.watcher.listen((agents) => {
        for (const [subscribed, agent] of subscriptions) {
          if (agents.has(agent)) void server.sendResourceUpdated({ uri: subscribed }).catch(() => {});
        }
      });
      return {};
    } catch (error) {
      throw protocolError(error);
    }
  });

  server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    subscriptions.delete(request.params.uri);
    if (subscriptions.size === 0) {
      stopListening?.();
      stopListening = undefined;
    }
    return {};
  });

  const previous = server.onclose;
  server.onclose = () => {
    stopListening?.();
    previous?.();
  };
}
