// The sign-in form: checks the key against the router, then starts a console session.

import { json } from "./api.js";
import { byId, say } from "./dom.js";
import { startSession } from "./session.js";

/** Wire the form; `signedIn(principal)` runs once the router accepted the key. */
export function setupSignIn(signedIn) {
  const form = byId("signin-form");
  const input = byId("signin-key");
  const submit = byId("signin-submit");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      showSignInMessage("Enter an API key.");
      input.focus();
      return;
    }
    submit.disabled = true;
    showSignInMessage("");
    try {
      const principal = await json("/console/api/session", {}, key);
      startSession(key, principal);
      input.value = "";
      signedIn(principal);
    } catch (error) {
      showSignInMessage(error.message);
      input.focus();
    } finally {
      submit.disabled = false;
    }
  });
}

/** Show why the console is on the sign-in page: a problem, or with `info` a plain notice. */
export function showSignInMessage(text, info = false) {
  const message = byId("signin-message");
  message.classList.toggle("notice-error", !info);
  message.classList.toggle("notice-info", info);
  say(message, text);
}
