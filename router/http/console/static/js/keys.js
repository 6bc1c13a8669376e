// Keys and tenants, for admins: create, rotate and revoke keys; create tenants and set limits.

import { json } from "./api.js";
import { byId, el, moment, number, optionalInteger, say, setOptions } from "./dom.js";
import { fillTable } from "./tables.js";

let context = null;
let tenants = [];

function tenantName(id) {
  const tenant = tenants.find((known) => known.id === id);
  return tenant ? tenant.name : id;
}

function keyState(key) {
  const now = Date.now() / 1000;
  if (key.revoked_at && key.revoked_at <= now) return { text: "revoked", bad: true };
  if (key.expires_at && key.expires_at <= now) return { text: "expired", bad: true };
  const text = key.rotated_to_id ? `rotated; works until ${moment(key.expires_at)}` : "active";
  return { text, bad: false };
}

function reportSuccess(text) {
  say(byId("keys-error"), "");
  say(byId("keys-status"), text, "success");
}

function reportFailure(failure) {
  say(byId("keys-status"), "");
  say(byId("keys-error"), failure.message);
}

function showSecret(secret) {
  byId("secret-value").value = secret;
  byId("secret-panel").hidden = false;
  byId("secret-title").focus();
}

function keyLabel(key) {
  return key.name ? `${key.name} (${key.prefix}…)` : `${key.prefix}…`;
}

async function revoke(key) {
  if (!window.confirm(`Revoke key ${keyLabel(key)}? Requests with it are refused at once.`)) return;
  try {
    await json(`/admin/v1/keys/${encodeURIComponent(key.id)}/revoke`, { method: "POST", body: {} });
    reportSuccess(`Revoked key ${keyLabel(key)}.`);
    await loadKeys();
  } catch (failure) {
    reportFailure(failure);
  }
}

async function rotate(key) {
  const question = `Rotate key ${keyLabel(key)}? The old key keeps working for 24 hours.`;
  if (!window.confirm(question)) return;
  try {
    const created = await json(`/admin/v1/keys/${encodeURIComponent(key.id)}/rotate`, {
      method: "POST",
      body: {},
    });
    reportSuccess(`Rotated key ${keyLabel(key)}; the replacement is ${keyLabel(created)}.`);
    showSecret(created.key);
    await loadKeys();
  } catch (failure) {
    reportFailure(failure);
  }
}

function keyActions(key) {
  if (keyState(key).bad) return el("span", { text: "—" });
  const rotateButton = el("button", {
    type: "button",
    text: "Rotate",
    "aria-label": `Rotate key ${keyLabel(key)}`,
    onclick: () => rotate(key),
  });
  return el("div", { class: "actions" }, [
    key.rotated_to_id ? "" : rotateButton,
    el("button", {
      type: "button",
      class: "danger",
      text: "Revoke",
      "aria-label": `Revoke key ${keyLabel(key)}`,
      onclick: () => revoke(key),
    }),
  ]);
}

function keyLimits(key) {
  const limits = [];
  if (key.rpm_limit) limits.push(`${number(key.rpm_limit)} requests/minute`);
  if (key.monthly_chars_limit) limits.push(`${number(key.monthly_chars_limit)} characters/month`);
  return limits.length ? limits.join(", ") : "none";
}

async function loadKeys() {
  const tenant = byId("key-filter-tenant").value;
  const query = tenant ? `?${new URLSearchParams({ tenant })}` : "";
  const keys = (await json(`/admin/v1/keys${query}`)).data;
  keys.sort((a, b) => b.created_at - a.created_at);
  fillTable(
    byId("key-list"),
    [
      { label: "Name", value: (key) => key.name || "—" },
      { label: "Prefix", value: (key) => el("code", { class: "nowrap", text: `${key.prefix}…` }) },
      { label: "Tenant", value: (key) => tenantName(key.tenant_id) },
      { label: "Role", value: (key) => (key.is_admin ? "admin" : "key") },
      { label: "Models", value: (key) => (key.models ? key.models.join(", ") : "all") },
      { label: "Limits", value: keyLimits },
      { label: "Created", value: (key) => moment(key.created_at) },
      { label: "Expires", value: (key) => (key.expires_at ? moment(key.expires_at) : "never") },
      {
        label: "State",
        value: (key) => {
          const state = keyState(key);
          return el("span", { class: state.bad ? "state-bad" : "state-ok", text: state.text });
        },
      },
      { label: "Actions", value: keyActions },
    ],
    keys,
    "No keys.",
  );
}

function renderTenants() {
  const options = () =>
    tenants.map((tenant) => el("option", { value: tenant.id, text: tenant.name }));
  const own = context.principal.tenant_id;
  setOptions(byId("key-tenant"), options(), own);
  setOptions(byId("limits-tenant"), options(), own);
  setOptions(byId("key-filter-tenant"), [
    el("option", { value: "", text: "All tenants" }),
    ...options(),
  ]);
  fillTable(
    byId("tenant-list"),
    [
      { label: "Name", value: (tenant) => tenant.name },
      { label: "Id", value: (tenant) => el("code", { text: tenant.id }) },
      { label: "Requests per minute", value: (tenant) => number(tenant.rpm_limit), number: true },
      {
        label: "Concurrent requests",
        value: (tenant) => number(tenant.concurrency_limit),
        number: true,
      },
      {
        label: "Characters per month",
        value: (tenant) => number(tenant.monthly_chars_limit),
        number: true,
      },
    ],
    tenants,
    "No tenants.",
  );
  fillLimits();
}

function fillLimits() {
  const tenant = tenants.find((known) => known.id === byId("limits-tenant").value);
  byId("limits-rpm").value = tenant?.rpm_limit ?? "";
  byId("limits-concurrency").value = tenant?.concurrency_limit ?? "";
  byId("limits-chars").value = tenant?.monthly_chars_limit ?? "";
}

async function loadTenants() {
  tenants = (await json("/admin/v1/tenants")).data;
  tenants.sort((a, b) => a.name.localeCompare(b.name));
  renderTenants();
}

async function renderModels() {
  const models = await context.models();
  const boxes = models.map((model) => {
    const id = `key-model-${model.id.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    return el("label", { for: id }, [
      el("input", { id, type: "checkbox", value: model.id, "data-model": "" }),
      model.id,
    ]);
  });
  byId("key-models").replaceChildren(...boxes);
}

function invalidNumber(...inputs) {
  const bad = inputs.find((input) => !input.checkValidity());
  return bad ? `${bad.labels[0].textContent} must be a whole number of at least 1.` : null;
}

async function createKey(event) {
  event.preventDefault();
  const invalid = invalidNumber(byId("key-rpm"), byId("key-chars"));
  if (invalid) return reportFailure(new Error(invalid));
  const models = Array.from(document.querySelectorAll("[data-model]:checked"), (box) => box.value);
  const expires = byId("key-expires").value;
  const body = {
    name: byId("key-name").value.trim() || null,
    rpm_limit: optionalInteger(byId("key-rpm")),
    monthly_chars_limit: optionalInteger(byId("key-chars")),
    models: models.length ? models : null,
    expires_at: expires ? new Date(expires).toISOString() : null,
    is_admin: byId("key-admin").checked,
  };
  const tenant = byId("key-tenant").value;
  try {
    const created = await json(`/admin/v1/tenants/${encodeURIComponent(tenant)}/keys`, {
      method: "POST",
      body,
    });
    byId("key-form").reset();
    byId("key-tenant").value = tenant;
    reportSuccess(`Created key ${keyLabel(created)} for tenant ${tenantName(created.tenant_id)}.`);
    showSecret(created.key);
    await loadKeys();
  } catch (failure) {
    reportFailure(failure);
  }
}

async function saveLimits(event) {
  event.preventDefault();
  const inputs = [byId("limits-rpm"), byId("limits-concurrency"), byId("limits-chars")];
  const invalid = invalidNumber(...inputs);
  if (invalid) return reportFailure(new Error(invalid));
  const tenant = byId("limits-tenant").value;
  const body = {
    rpm_limit: optionalInteger(inputs[0]),
    concurrency_limit: optionalInteger(inputs[1]),
    monthly_chars_limit: optionalInteger(inputs[2]),
  };
  try {
    const updated = await json(`/admin/v1/tenants/${encodeURIComponent(tenant)}`, {
      method: "PATCH",
      body,
    });
    reportSuccess(`Saved the limits of tenant ${updated.name}.`);
    await loadTenants();
    byId("limits-tenant").value = updated.id;
    fillLimits();
  } catch (failure) {
    reportFailure(failure);
  }
}

async function createTenant(event) {
  event.preventDefault();
  const name = byId("tenant-name").value.trim();
  if (!name) return reportFailure(new Error("Enter a name for the tenant."));
  try {
    const created = await json("/admin/v1/tenants", { method: "POST", body: { name } });
    byId("tenant-name").value = "";
    reportSuccess(`Created tenant ${created.name}.`);
    await loadTenants();
  } catch (failure) {
    reportFailure(failure);
  }
}

async function load() {
  const section = byId("view-keys");
  section.setAttribute("aria-busy", "true");
  try {
    await loadTenants();
    await Promise.all([loadKeys(), renderModels()]);
  } catch (failure) {
    reportFailure(failure);
  } finally {
    section.removeAttribute("aria-busy");
  }
}

/** Wire the forms once. */
export function setup() {
  byId("key-form").addEventListener("submit", createKey);
  byId("limits-form").addEventListener("submit", saveLimits);
  byId("tenant-form").addEventListener("submit", createTenant);
  byId("limits-tenant").addEventListener("change", fillLimits);
  byId("key-filter-tenant").addEventListener("change", () => loadKeys().catch(reportFailure));
  byId("secret-done").addEventListener("click", () => {
    byId("secret-value").value = "";
    byId("secret-panel").hidden = true;
    byId("key-create").focus();
  });
  byId("secret-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(byId("secret-value").value);
      say(byId("keys-status"), "Copied the key.", "success");
    } catch {
      byId("secret-value").select();
      say(byId("keys-status"), "Copying failed: the key is selected, copy it with your keyboard.");
    }
  });
}

/** Load tenants and keys each time the page opens. */
export function show(shared) {
  if (shared !== context) {
    byId("secret-value").value = "";
    byId("secret-panel").hidden = true;
  }
  context = shared;
  load();
}
