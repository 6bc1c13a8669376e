// The console session: the key and its expiry, in this tab's sessionStorage only.

const STORAGE_KEY = "tts-router.console";
export const SESSION_HOURS = 8;
export const EXPIRED_MESSAGE = "Your console session has expired. Sign in again.";

/** Remember `key` and who it acts for until the session expires. */
export function startSession(key, principal) {
  const expiresAt = Date.now() + SESSION_HOURS * 3600 * 1000;
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ key, principal, expiresAt }));
}

/** The stored session: `{state: "none" | "expired" | "active", key, principal}`. */
export function readSession() {
  let stored = null;
  try {
    stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
  } catch {
    stored = null;
  }
  if (!stored || typeof stored.key !== "string") return { state: "none" };
  if (!(stored.expiresAt > Date.now())) return { state: "expired" };
  return { state: "active", key: stored.key, principal: stored.principal };
}

/** Forget the key. */
export function endSession() {
  sessionStorage.removeItem(STORAGE_KEY);
}
