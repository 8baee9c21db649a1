import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { Manifest } from "../../../exporter/bundle-format.js";
import { DecryptError, type Secret } from "../lib/decrypt.js";
import { readDrop } from "../lib/dropped.js";
import {
  type LoadResult,
  type LockedBundle,
  loadBundle,
  type OpenBundle,
  type Progress,
  sourceFromPage,
  unlockBundle,
} from "../lib/loader.js";
import { historyChanged, href, keepPinnedKey, parseHash, type Route, startHistory } from "../lib/router.js";
import { type BundleSource, filesSource, zipSource } from "../lib/source.js";
import { applyStoredTheme } from "../lib/theme.js";
import { NoBundleError, type Signer } from "../lib/verify.js";
import { Header } from "./Header.js";
import { Opener } from "./Opener.js";
import { ProgressBar } from "./ProgressBar.js";
import { RouteView } from "./RouteView.js";
import { Status } from "./Status.js";
import { Unlock } from "./Unlock.js";

type Phase =
  | { phase: "loading"; progress: Progress }
  | { phase: "opener"; reason: string | null }
  | { phase: "tampered"; problems: string[]; label: string }
  | { phase: "locked"; locked: LockedBundle; error: string | null; progress: Progress | null }
  | { phase: "ready"; bundle: OpenBundle }
  | { phase: "error"; message: string; verified?: { manifest: Manifest; signer: Signer | null } };

/** The viewer: opens, verifies and (when needed) decrypts a bundle, then routes between the views. */
export default function App() {
  const [state, setState] = useState<Phase>({ phase: "loading", progress: { step: "Looking for a bundle" } });
  const [route, setRoute] = useState<Route>(() => parseHash(location.hash).route);
  const pinned = useRef<string | null>(null);
  const current = useRef<Phase>(state);
  current.current = state;

  const show = useCallback((next: Phase) => {
    const before = current.current;
    if (before.phase === "ready" && !(next.phase === "ready" && next.bundle === before.bundle))
      before.bundle.db.close();
    setState(next);
  }, []);

  const progress = useCallback((p: Progress) => setState({ phase: "loading", progress: p }), []);

  const settle = useCallback(
    (result: LoadResult) => {
      if (result.state === "ready") show({ phase: "ready", bundle: result.bundle });
      else if (result.state === "locked")
        show({ phase: "locked", locked: result.locked, error: null, progress: null });
      else if (result.state === "tampered")
        show({ phase: "tampered", problems: result.problems, label: result.label });
      else {
        show({
          phase: "error",
          message: result.message,
          verified: { manifest: result.manifest, signer: result.signer },
        });
      }
    },
    [show],
  );

  const open = useCallback(
    async (makeSource: () => Promise<BundleSource>, noBundle: (e: NoBundleError) => Phase) => {
      try {
        progress({ step: "Looking for a bundle" });
        const source = await makeSource();
        settle(await loadBundle(source, pinned.current, progress));
      } catch (error) {
        if (error instanceof NoBundleError) show(noBundle(error));
        else show({ phase: "error", message: (error as Error).message });
      }
    },
    [progress, settle, show],
  );

  const openFile = useCallback(
    (file: File) =>
      open(
        async () => zipSource(new Uint8Array(await file.arrayBuffer()), file.name),
        () => ({ phase: "opener", reason: `${file.name} holds no bundle.` }),
      ),
    [open],
  );

  const openFolder = useCallback(
    (name: string, files: Map<string, File>) =>
      open(
        async () => filesSource(files, name),
        () => ({ phase: "opener", reason: `${name} holds no bundle.` }),
      ),
    [open],
  );

  useEffect(() => {
    applyStoredTheme();
    const initial = parseHash(location.hash);
    pinned.current = initial.key;
    keepPinnedKey(initial.key);
    const hasParam = new URL(location.href).searchParams.has("bundle");
    open(
      () => sourceFromPage(location.href, progress),
      (e) => (hasParam ? { phase: "error", message: e.message } : { phase: "opener", reason: null }),
    );

    startHistory();
    const onHash = () => {
      historyChanged();
      setRoute(parseHash(location.hash).route);
    };
    const onDragOver = (e: DragEvent) => e.preventDefault();
    const onDrop = async (e: DragEvent) => {
      e.preventDefault();
      if (!e.dataTransfer) return;
      const dropped = await readDrop(e.dataTransfer);
      if (dropped?.kind === "zip") openFile(dropped.file);
      else if (dropped?.kind === "folder") openFolder(dropped.name, dropped.files);
    };
    addEventListener("hashchange", onHash);
    addEventListener("dragover", onDragOver);
    addEventListener("drop", onDrop);
    return () => {
      removeEventListener("hashchange", onHash);
      removeEventListener("dragover", onDragOver);
      removeEventListener("drop", onDrop);
    };
  }, [open, openFile, openFolder, progress]);

  const unlock = async (secret: Secret) => {
    if (state.phase !== "locked") return;
    const locked = state.locked;
    const step = (p: Progress) => setState({ phase: "locked", locked, error: null, progress: p });
    try {
      show({ phase: "ready", bundle: await unlockBundle(locked, secret, step) });
    } catch (error) {
      if (error instanceof DecryptError) {
        setState({ phase: "locked", locked, error: error.message, progress: null });
      } else {
        const verified = { manifest: locked.manifest, signer: locked.signer };
        show({ phase: "error", message: (error as Error).message, verified });
      }
    }
  };

  return (
    <div class="app">
      <Header route={route} ready={state.phase === "ready"} />
      <StatusFor state={state} />
      <main id="main" tabIndex={-1} data-route={state.phase === "ready" ? href(route) : undefined}>
        {state.phase === "loading" ? <ProgressBar progress={state.progress} /> : null}
        {state.phase === "opener" ? (
          <Opener reason={state.reason} openFile={openFile} openFolder={openFolder} />
        ) : null}
        {state.phase === "error" ? (
          <section class="view">
            <h1>The bundle could not be opened</h1>
            <p class="error" role="alert">
              {state.message}
            </p>
          </section>
        ) : null}
        {state.phase === "locked" ? (
          <>
            <Unlock
              mode={state.locked.manifest.encryption?.mode ?? "scrypt"}
              error={state.error}
              busy={state.progress !== null}
              unlock={unlock}
            />
            {state.progress ? <ProgressBar progress={state.progress} /> : null}
          </>
        ) : null}
        {state.phase === "ready" ? <RouteView bundle={state.bundle} route={route} /> : null}
      </main>
    </div>
  );
}

function StatusFor({ state }: { state: Phase }) {
  switch (state.phase) {
    case "loading":
      return <Status state="pending" />;
    case "opener":
      return <Status state="none" />;
    case "error":
      return state.verified ? (
        <Status
          state={state.verified.signer ? "verified" : "unsigned"}
          signer={state.verified.signer}
          manifest={state.verified.manifest}
        />
      ) : (
        <Status state="none" />
      );
    case "tampered":
      return <Status state="tampered" problems={state.problems} label={state.label} />;
    case "locked":
      return <Status state="locked" signer={state.locked.signer} manifest={state.locked.manifest} />;
    case "ready":
      return (
        <Status
          state={state.bundle.signer ? "verified" : "unsigned"}
          signer={state.bundle.signer}
          manifest={state.bundle.manifest}
        />
      );
  }
}
