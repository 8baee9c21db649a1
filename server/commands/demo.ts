import type { Command } from "commander";
import { startDemo } from "../../exporter/demo.js";
import { PACKAGE } from "../version.js";
import type { CliCommand } from "./command.js";
import { integerIn } from "./options.js";

interface DemoCliOptions {
  messages: number;
  port: number;
  keep?: boolean;
}

/** The port `demo` tries first (serve uses 8765, preview 8766). */
const DEMO_PORT = 8767;
const MAX_DEMO_MESSAGES = 200_000;

const STEP_TEXT = {
  seed: "seeding a sample mailbox",
  keygen: "creating a signing key",
  export: "exporting a signed bundle (scrub preset standard)",
  serve: "serving it",
} as const;

/** `pigeonhole demo`: a sample mailbox, exported, signed and served, in one command, until Ctrl-C. */
export const demoCommand: CliCommand = {
  name: "demo",
  summary: "seed a sample mailbox, export it as a signed bundle and serve it on localhost (Ctrl-C stops)",
  define(cmd) {
    cmd
      .option(
        "--messages <n>",
        `messages in the sample mailbox (1 to ${MAX_DEMO_MESSAGES.toLocaleString("en-US")})`,
        integerIn(1, MAX_DEMO_MESSAGES),
        2000,
      )
      .option(
        "--port <number>",
        `port on 127.0.0.1 (0 picks a free one; default ${DEMO_PORT}, or a free one if taken)`,
        integerIn(0, 65535),
        DEMO_PORT,
      )
      .option("--keep", "keep the temporary directory (mailbox, key, bundle) after Ctrl-C")
      .action((options: DemoCliOptions, command: Command) => demo(options, command));
  },
};

async function demo(options: DemoCliOptions, command: Command): Promise<void> {
  // Ctrl-C during set-up stops it cleanly (the temporary directory is removed); afterwards it stops serving.
  const abort = new AbortController();
  let stopped!: () => void;
  const stop = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort(new Error("demo interrupted"));
    stopped();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const started = await startDemo({
      messages: options.messages,
      port: options.port,
      fallbackPort: command.getOptionValueSource("port") !== "cli",
      keep: options.keep === true,
      signal: abort.signal,
      generator: { name: PACKAGE.name, version: PACKAGE.version },
      onStep: (step, dir) =>
        process.stderr.write(
          `demo: ${STEP_TEXT[step]}${step === "seed" ? ` (${options.messages.toLocaleString("en-US")} messages in ${dir})` : ""}\n`,
        ),
    }).catch((error: unknown) => {
      if (abort.signal.aborted) return null;
      throw error;
    });
    if (started === null) return;
    process.stdout.write(
      [
        `demo: ${started.url} (Ctrl-C to stop)`,
        `  signing key:  ${started.fingerprint}`,
        `  pinned link:  ${started.pinnedUrl}`,
        `  verify:       pigeonhole verify ${started.url} --public-key ${started.publicKey}`,
        `  files:        ${started.dir} (${options.keep ? "kept after Ctrl-C" : "removed on Ctrl-C; --keep keeps them"})`,
        ...(started.viewer
          ? []
          : [
              "  note: this installation has no built viewer, so the bundle has data but no web page (npm run build builds it)",
            ]),
        "",
      ].join("\n"),
    );
    await stop;
    await started.close();
    process.stderr.write(`demo: stopped${options.keep ? `; kept ${started.dir}` : ""}\n`);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
