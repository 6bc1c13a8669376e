// Calls to the router with the session's key; failures carry the API's own error message.

import { EXPIRED_MESSAGE, readSession } from "./session.js";

/** A failed call: the HTTP status and the message of the API's error envelope. */
export class ApiError extends Error {
  constructor(status, message, code = null) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const unauthorizedHandlers = [];

/** Call `handler(error)` whenever the router refuses the key (401) or the session expired. */
export function onUnauthorized(handler) {
  unauthorizedHandlers.push(handler);
}

/** The message of an error response, from any envelope the router words errors in. */
export async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && typeof body === "object" ? body.error || body : null;
  const message =
    (error && typeof error.message === "string" && error.message) ||
    (body && typeof body.detail === "string" && body.detail) ||
    `The router answered ${response.status} ${response.statusText}.`;
  return new ApiError(response.status, message, error && error.code);
}

/** fetch() with the session's key; refuses before sending when there is no live session. */
export async function request(path, options = {}, key = null) {
  let secret = key;
  if (secret === null) {
    const session = readSession();
    if (session.state === "none") throw new ApiError(401, "You are signed out.", "signed_out");
    if (session.state === "expired") {
      const error = new ApiError(401, EXPIRED_MESSAGE, "session_expired");
      unauthorizedHandlers.forEach((handler) => handler(error));
      throw error;
    }
    secret = session.key;
  }
  const headers = new Headers(options.headers || {});
  headers.set("authorization", `Bearer ${secret}`);
  let response;
  try {
    response = await fetch(path, { ...options, headers, credentials: "omit", cache: "no-store" });
  } catch (cause) {
    if (cause.name === "AbortError") throw cause;
    throw new ApiError(0, `Could not reach the router (${cause.message}).`);
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && key === null) {
      unauthorizedHandlers.forEach((handler) => handler(error));
    }
    throw error;
  }
  return response;
}

/** A JSON call: the decoded body of a successful answer. */
export async function json(path, options = {}, key = null) {
  const init = { ...options };
  if (
    init.body !== undefined &&
    typeof init.body !== "string" &&
    !(init.body instanceof FormData)
  ) {
    init.body = JSON.stringify(init.body);
    init.headers = { "content-type": "application/json", ...(init.headers || {}) };
  }
  const response = await request(path, init, key);
  return response.json();
}
