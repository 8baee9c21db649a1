import { engineBench } from "./engine.js";
import { exporterBench } from "./exporter.js";
import { serverBench } from "./server.js";
import type { BenchModule } from "./types.js";
import { viewerBench } from "./viewer.js";

/**
 * Every bench module, in table order. A new group of rows is one module file plus one entry here;
 * `--only <name>` selects by `name`.
 */
export const BENCH_MODULES: readonly BenchModule[] = [engineBench, serverBench, exporterBench, viewerBench];
