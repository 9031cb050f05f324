import type { AppStatus } from "../../api/types";

/**
 * Why execute mode cannot be chosen, or null when it can. Unknown status (not read yet, or
 * the shell does not answer) blocks nothing here: the engine checks again anyway.
 */
export function executeBlockedReason(status: AppStatus | null): string | null {
  if (status === null) {
    return null;
  }
  if (status.read_only) {
    return "This installation is read-only: requests can only be planned";
  }
  if (!status.docker.ok) {
    return `Docker is not reachable: ${status.docker.detail}`;
  }
  return null;
}
