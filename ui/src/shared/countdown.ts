import { formatDate } from "./format";

/**
 * How long until `expiresAt` (RFC 3339) as seen at `now`: "expires in 14:32", "expires in
 * 1:02:03" past an hour, "expired" once the time has come.
 */
export function formatCountdown(expiresAt: string, now: Date): string {
  const end = new Date(expiresAt).getTime();
  if (Number.isNaN(end)) {
    return "expiry unknown";
  }
  const left = Math.floor((end - now.getTime()) / 1000);
  if (left <= 0) {
    return "expired";
  }
  const hours = Math.floor(left / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = left % 60;
  const mmss = `${String(minutes).padStart(hours > 0 ? 2 : 1, "0")}:${String(seconds).padStart(2, "0")}`;
  return hours > 0 ? `expires in ${String(hours)}:${mmss}` : `expires in ${mmss}`;
}

/** Whether `expiresAt` has passed at `now` (an unreadable time counts as not expired). */
export function isExpired(expiresAt: string, now: Date): boolean {
  const end = new Date(expiresAt).getTime();
  return !Number.isNaN(end) && end <= now.getTime();
}

/** The expiry as a local date and time, for a tooltip. */
export function expiryTitle(expiresAt: string): string {
  const date = new Date(expiresAt);
  if (Number.isNaN(date.getTime())) {
    return expiresAt;
  }
  return `${formatDate(date)} ${date.toLocaleTimeString()}`;
}
