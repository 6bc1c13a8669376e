// The console's entry point: session checks, navigation between views, sign-out.

import { json, onUnauthorized } from "./api.js";
import { byId } from "./dom.js";
import * as keys from "./keys.js";
import * as playground from "./playground.js";
import { EXPIRED_MESSAGE, endSession, readSession } from "./session.js";
import { setupSignIn, showSignInMessage } from "./signin.js";
import * as usage from "./usage.js";
import { requestedView, showAdminParts, showView } from "./views.js";

const PAGES = { playground, usage, keys };
let context = null;

/** Everything the views share for one signed-in key. */
function newContext(principal) {
  let models = null;
  return {
    principal,
    models() {
      models ??= json("/console/api/models").then(
        (body) => body.data,
        (failure) => {
          models = null;
          throw failure;
        },
      );
      return models;
    },
  };
}

function showAccount(principal) {
  byId("nav").hidden = !principal;
  byId("account").hidden = !principal;
  showAdminParts(Boolean(principal && principal.is_admin));
  if (principal) {
    const role = principal.is_admin ? "admin" : "key";
    byId("account-name").textContent = `Tenant ${principal.tenant_name} (${role})`;
  }
}

function signOut(message = "", info = false) {
  endSession();
  context = null;
  showAccount(null);
  showSignInMessage(message, info);
  showView("signin");
  if (location.hash && location.hash !== "#signin") history.replaceState(null, "", "#signin");
}

function route({ focus = true } = {}) {
  const session = readSession();
  if (session.state !== "active") {
    if (session.state === "expired") signOut(EXPIRED_MESSAGE);
    else if (context) signOut();
    else showView("signin", { focus });
    return;
  }
  if (!context) {
    context = newContext(session.principal);
    showAccount(session.principal);
  }
  let name = requestedView();
  if (!name || name === "signin" || (name === "keys" && !context.principal.is_admin)) {
    name = "playground";
  }
  showView(name, { focus });
  PAGES[name].show(context);
}

function signedIn(principal) {
  context = newContext(principal);
  showAccount(principal);
  if (location.hash === "#playground") route();
  else location.hash = "#playground";
}

function start() {
  setupSignIn(signedIn);
  for (const page of Object.values(PAGES)) page.setup();
  onUnauthorized((error) =>
    signOut(error.code === "session_expired" ? EXPIRED_MESSAGE : `Signed out: ${error.message}`),
  );
  byId("sign-out").addEventListener("click", () => signOut("You signed out.", true));
  byId("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    byId("main").focus();
  });
  window.addEventListener("hashchange", () => {
    if (requestedView()) route();
  });
  // An expired session signs out even while nobody clicks anything.
  setInterval(() => {
    if (context && readSession().state !== "active") route();
  }, 30_000);
  route({ focus: false });
  // A key revoked or expired since the last visit signs out at once.
  if (readSession().state === "active") json("/console/api/session").catch(() => {});
}

start();
