// Sign in with a key, show who it belongs to, switch between the views.

import { loadClients, setupAdmin } from "./admin.js";
import { ApiError, auth, call } from "./api.js";
import { loadScopes, refresh, setupDashboard } from "./dashboard.js";
import { $, $$, fmt, replace } from "./dom.js";
import { probeOpenAI, setupPlayground } from "./playground.js";

let me = null;

function showView(name) {
  for (const button of $$("#views [data-view]")) button.classList.toggle("active", button.dataset.view === name);
  for (const view of $$("main > .view")) view.hidden = view.id !== `view-${name}`;
  if (name === "dashboard") loadScopes().catch(() => {}).finally(() => refresh());
  if (name === "admin") loadClients();
}

async function signIn(key) {
  auth.set(key);
  try {
    const { data } = await call("/api/v1/me");
    me = data;
  } catch (err) {
    auth.clear();
    throw err;
  }
  const admin = me.scopes.includes("admin");
  replace($("#who"), `${me.name} · ${admin ? "admin" : "client"} · ${fmt.int(me.rpm_limit)} req/min · ${fmt.usd(me.monthly_budget_usd)}/month`);
  $("#who").dataset.clientId = me.client_id;
  $("#login").hidden = true;
  $("#views").hidden = false;
  $("#signout").hidden = false;
  $("#admin-nav").hidden = !admin;
  setupDashboard(me);
  document.body.dataset.signedIn = admin ? "admin" : "client";
  showView("playground");
  probeOpenAI();
}

function signOut() {
  auth.clear();
  location.reload();
}

function start() {
  setupPlayground();
  setupAdmin();
  for (const button of $$("#views [data-view]")) {
    button.addEventListener("click", () => showView(button.dataset.view));
  }
  $("#signout").addEventListener("click", signOut);
  $("#login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const error = $("#login-error");
    error.hidden = true;
    try {
      await signIn($("#api-key").value.trim());
      $("#api-key").value = "";
    } catch (err) {
      error.hidden = false;
      error.textContent = err instanceof ApiError && err.status === 401
        ? "That key was not accepted (401)."
        : `Sign-in failed: ${err.message}`;
    }
  });
  if (auth.key) signIn(auth.key).catch(() => { $("#login").hidden = false; });
}

start();
