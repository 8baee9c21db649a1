import {
  FileReservationPathsInput,
  ForceReleaseFileReservationInput,
  fileReservationPaths,
  forceReleaseFileReservation,
  InstallPrecommitGuardInput,
  installPrecommitGuard,
  ListFileReservationsInput,
  listFileReservations,
  ReleaseFileReservationsInput,
  RenewFileReservationsInput,
  releaseFileReservations,
  renewFileReservations,
  UninstallPrecommitGuardInput,
  uninstallPrecommitGuard,
} from "../../../engine/index.js";
import { defineTool } from "../tool-spec.js";

/** File reservations and the pre-commit guard (TOOLS.md). */
export const RESERVATION_TOOLS = [
  defineTool({
    name: "file_reservation_paths",
    title: "Reserve files",
    description:
      "Reserve repository-relative globs before editing (exclusive by default, ttl_seconds); always granted, with conflicts naming other holders.",
    input: FileReservationPathsInput,
    access: "write",
    core: true,
    actor: "agent_name",
    run: ({ mailbox }, args) => fileReservationPaths(mailbox, args),
  }),
  defineTool({
    name: "renew_file_reservations",
    title: "Renew reservations",
    description:
      "Extend the agent's active reservations (by paths or ids; all when neither); never revives expired ones.",
    input: RenewFileReservationsInput,
    access: "write",
    core: false,
    actor: "agent_name",
    run: ({ mailbox }, args) => renewFileReservations(mailbox, args),
  }),
  defineTool({
    name: "release_file_reservations",
    title: "Release reservations",
    description: "Release the agent's reservations (by paths or ids; all when neither).",
    input: ReleaseFileReservationsInput,
    access: "write",
    core: true,
    actor: "agent_name",
    run: ({ mailbox }, args) => releaseFileReservations(mailbox, args),
  }),
  defineTool({
    name: "force_release_file_reservation",
    title: "Force release",
    description:
      "Release another agent's reservation when its holder looks abandoned (inactive over 30 minutes, retired, or expired); notifies the holder.",
    input: ForceReleaseFileReservationInput,
    access: "write",
    core: false,
    actor: "agent_name",
    run: ({ mailbox }, args) => forceReleaseFileReservation(mailbox, args),
  }),
  defineTool({
    name: "list_file_reservations",
    title: "List reservations",
    description: "A project's reservations (active only by default) with holders and expiry.",
    input: ListFileReservationsInput,
    access: "read",
    core: false,
    run: ({ mailbox }, args) => listFileReservations(mailbox, args),
  }),
  defineTool({
    name: "install_precommit_guard",
    title: "Install pre-commit guard",
    description:
      "Install a Git pre-commit hook in code_repo_path that refuses commits touching paths another agent holds exclusively (existing hooks are chained).",
    input: InstallPrecommitGuardInput,
    access: "write",
    core: false,
    run: ({ mailbox }, args) => installPrecommitGuard(mailbox, args),
  }),
  defineTool({
    name: "uninstall_precommit_guard",
    title: "Uninstall pre-commit guard",
    description: "Remove the guard hook and restore any hook it chained.",
    input: UninstallPrecommitGuardInput,
    access: "write",
    core: false,
    run: (_ctx, args) => uninstallPrecommitGuard(args),
  }),
];
