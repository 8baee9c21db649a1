import { ensureProject, openMailbox, registerAgent } from "../../engine/index.js";
import type { AgentCredential } from "./protocol.js";

/** How many workers of each kind a run starts, and how many agents each acts as. */
export interface Cast {
  httpSenders: number;
  engineSenders: number;
  readers: number;
  agentsPerSender: number;
}

/** The project and agents of a stress run, registered before the server starts. */
export interface StressMailbox {
  project: string;
  /** Agents of each HTTP sender, by sender index. */
  httpAgents: AgentCredential[][];
  engineAgents: AgentCredential[][];
  readerAgents: AgentCredential[][];
  /** Every agent's name: any of them may receive mail. */
  everyone: string[];
}

/**
 * Create the stress project and register every agent through the engine (each registration returns the
 * token a worker then uses from its own sessions). Names say who sends how: `Mcp1a`, `Rest2b`, `Engine1a`.
 */
export async function setUpMailbox(home: string, cast: Cast): Promise<StressMailbox> {
  const mb = openMailbox({ home });
  try {
    const project = ensureProject(mb, { human_key: "/stress/pigeonhole" }).slug;
    const register = (name: string): AgentCredential => {
      const agent = registerAgent(mb, {
        project_key: project,
        program: "stress",
        model: "none",
        name,
        task_description: "npm run stress",
      });
      return { name: agent.name, token: agent.registration_token };
    };
    const letters = "abcdefghijklmnopqrstuvwxyz";
    const group = (label: string, count: number) =>
      Array.from({ length: count }, (_, i) => register(`${label}${letters[i % 26]}${i >= 26 ? i : ""}`));
    const httpAgents = Array.from({ length: cast.httpSenders }, (_, i) =>
      group(`${httpChannel(i) === "mcp" ? "Mcp" : "Rest"}${i + 1}`, cast.agentsPerSender),
    );
    const engineAgents = Array.from({ length: cast.engineSenders }, (_, i) => group(`Engine${i + 1}`, 1));
    const readerAgents = Array.from({ length: cast.readers }, (_, i) => group(`Reader${i + 1}`, 2));
    const everyone = [...httpAgents, ...engineAgents, ...readerAgents].flat().map((a) => a.name);
    return { project, httpAgents, engineAgents, readerAgents, everyone };
  } finally {
    await mb.close();
  }
}

/** HTTP senders alternate between MCP over Streamable HTTP (odd numbers) and the REST API (even numbers). */
export function httpChannel(index: number): "mcp" | "rest" {
  return index % 2 === 0 ? "mcp" : "rest";
}
