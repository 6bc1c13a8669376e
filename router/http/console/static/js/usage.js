// The usage dashboard: totals, daily charts, per-model and per-tenant tables, latest requests,
// and for admins provider health.

import { json } from "./api.js";
import { byId, dollars, el, moment, number, say, setOptions } from "./dom.js";
import { drawDaily } from "./charts.js";
import { fillTable } from "./tables.js";

const DAY_MS = 86_400_000;
let context = null;
let tenantNames = new Map();

function isoDay(milliseconds) {
  return new Date(milliseconds).toISOString().slice(0, 10);
}

/** The last `count` UTC days up to today: the API's [start, end) and every day in it. */
function dayRange(count) {
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const days = Array.from({ length: count }, (_, index) => today - (count - 1 - index) * DAY_MS);
  return { start: isoDay(days[0]), end: isoDay(today + DAY_MS), days };
}

function status(code, errorCode) {
  if (code === 0) return el("span", { text: "in progress" });
  const ok = code < 400;
  const text = errorCode ? `${code} ${errorCode}` : String(code);
  return el("span", { class: ok ? "state-ok" : "state-bad", text });
}

function tenantName(id) {
  return tenantNames.get(id) || id;
}

const TOTALS_COLUMNS = [
  { label: "Requests", value: (row) => number(row.requests), number: true },
  { label: "Errors", value: (row) => number(row.errors), number: true },
  { label: "Characters", value: (row) => number(row.input_characters), number: true },
  { label: "Audio seconds", value: (row) => number(row.audio_seconds, 1), number: true },
  { label: "Cost", value: (row) => dollars(row.cost_usd), number: true },
];

function renderTotals(totals) {
  const items = TOTALS_COLUMNS.map((column) =>
    el("div", {}, [el("dt", { text: column.label }), el("dd", { text: column.value(totals) })]),
  );
  byId("usage-totals").replaceChildren(...items);
}

function renderDays(summary, days) {
  const byDay = new Map(summary.by_day.map((entry) => [entry.day, entry]));
  const zero = { requests: 0, errors: 0, input_characters: 0, audio_seconds: 0, cost_usd: 0 };
  const rows = days.map((day) => byDay.get(isoDay(day)) || { day: isoDay(day), ...zero });
  const xs = days.map((day) => day / 1000);
  const series = (key) => rows.map((row) => row[key]);
  drawDaily(byId("chart-requests"), "Requests", xs, series("requests"), (v) => number(v), true);
  drawDaily(
    byId("chart-characters"),
    "Characters",
    xs,
    series("input_characters"),
    (v) => number(v),
    true,
  );
  drawDaily(byId("chart-seconds"), "Audio seconds", xs, series("audio_seconds"), (v) =>
    number(v, 1),
  );
  drawDaily(byId("chart-cost"), "Cost (USD)", xs, series("cost_usd"), (v) => dollars(v));
  fillTable(
    byId("usage-days"),
    [{ label: "Day (UTC)", value: (row) => row.day }, ...TOTALS_COLUMNS],
    rows,
  );
}

function renderBreakdowns(summary) {
  fillTable(
    byId("usage-models"),
    [{ label: "Model", value: (row) => row.model }, ...TOTALS_COLUMNS],
    summary.by_model,
    "No requests in this period.",
  );
  if (summary.by_tenant) {
    fillTable(
      byId("usage-tenants"),
      [{ label: "Tenant", value: (row) => tenantName(row.tenant_id) }, ...TOTALS_COLUMNS],
      summary.by_tenant,
      "No requests in this period.",
    );
  }
}

function renderRequests(requests, admin) {
  const columns = [
    { label: "Time", value: (row) => moment(row.created_at) },
    admin ? { label: "Tenant", value: (row) => tenantName(row.tenant_id) } : null,
    { label: "Model", value: (row) => row.model },
    { label: "Provider", value: (row) => row.provider },
    { label: "Voice", value: (row) => row.voice },
    { label: "Format", value: (row) => row.response_format },
    { label: "Characters", value: (row) => number(row.input_characters), number: true },
    { label: "Audio seconds", value: (row) => number(row.audio_seconds, 2), number: true },
    { label: "Status", value: (row) => status(row.status, row.error_code) },
    { label: "First byte (ms)", value: (row) => number(row.time_to_first_byte_ms), number: true },
    { label: "Latency (ms)", value: (row) => number(row.latency_ms), number: true },
    { label: "Request id", value: (row) => el("code", { text: row.request_id }) },
  ].filter(Boolean);
  fillTable(byId("usage-requests"), columns, requests, "No requests yet.");
}

function renderHealth(providers) {
  const ratio = (value) => (value === null ? "—" : `${number(value * 100, 1)} %`);
  fillTable(
    byId("provider-health"),
    [
      { label: "Provider", value: (row) => row.name },
      {
        label: "Ready",
        value: (row) =>
          el("span", {
            class: row.ready ? "state-ok" : "state-bad",
            text: row.ready ? "ready" : "not ready",
          }),
      },
      {
        label: "Breaker",
        value: (row) =>
          el("span", {
            class: row.breaker === "closed" ? "state-ok" : "state-bad",
            text: row.breaker,
          }),
      },
      { label: "Attempts", value: (row) => number(row.attempts), number: true },
      { label: "Error rate", value: (row) => ratio(row.error_rate), number: true },
      {
        label: "First byte p50 (ms)",
        value: (row) => number(row.time_to_first_byte_ms.p50),
        number: true,
      },
      {
        label: "First byte p95 (ms)",
        value: (row) => number(row.time_to_first_byte_ms.p95),
        number: true,
      },
    ],
    providers,
    "No providers.",
  );
}

function scopeName(admin, tenant) {
  if (!admin) return `tenant ${context.principal.tenant_name}`;
  return tenant ? `tenant ${tenantName(tenant)}` : "all tenants";
}

async function loadTenants() {
  const body = await json("/admin/v1/tenants");
  tenantNames = new Map(body.data.map((tenant) => [tenant.id, tenant.name]));
  setOptions(byId("usage-tenant"), [
    el("option", { value: "", text: "All tenants" }),
    ...body.data.map((tenant) => el("option", { value: tenant.id, text: tenant.name })),
  ]);
}

async function loadHealth() {
  say(byId("health-error"), "");
  try {
    renderHealth((await json("/console/api/providers")).data);
  } catch (failure) {
    say(byId("health-error"), failure.message);
  }
}

async function load() {
  if (!context) return;
  const section = byId("view-usage");
  section.setAttribute("aria-busy", "true");
  try {
    await loadFigures();
  } finally {
    section.removeAttribute("aria-busy");
  }
}

async function loadFigures() {
  const admin = context.principal.is_admin;
  const range = dayRange(Number(byId("usage-period").value));
  const error = byId("usage-error");
  say(error, "");
  try {
    if (admin) await loadTenants();
    const tenant = admin ? byId("usage-tenant").value : "";
    const query = new URLSearchParams({ start: range.start, end: range.end });
    if (tenant) query.set("tenant", tenant);
    const latest = new URLSearchParams({ limit: "50" });
    if (tenant) latest.set("tenant", tenant);
    const [summary, requests] = await Promise.all([
      json(`${admin ? "/admin/v1/usage" : "/openai/v1/usage"}?${query}`),
      json(`/console/api/requests?${latest}`),
    ]);
    const last = isoDay(Date.parse(range.end) - DAY_MS);
    const scope = `${scopeName(admin, tenant)} from ${range.start} to ${last} (UTC days)`;
    byId("usage-scope").textContent = `Usage of ${scope}.`;
    renderTotals(summary.totals);
    renderDays(summary, range.days);
    renderBreakdowns(summary);
    renderRequests(requests.data, admin);
  } catch (failure) {
    say(error, failure.message);
  }
  if (admin) await loadHealth();
}

/** Wire the period and tenant filters once. */
export function setup() {
  byId("usage-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  byId("usage-period").addEventListener("change", load);
  byId("usage-tenant").addEventListener("change", load);
}

/** Show fresh figures each time the dashboard opens. */
export function show(shared) {
  context = shared;
  load();
}
