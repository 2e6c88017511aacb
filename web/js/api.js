// The service's HTTP API as the page calls it: one bearer token, JSON in, JSON or problem+json out.

const TOKEN_KEY = "uku-sa-session";

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
  } catch {
    return null;
  }
}

export function saveSession(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** A failed call: `status`, the problem document (`code`, `title`, `detail`, `errors`) and its `fields` by name. */
export class ApiProblem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title || body.message)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.code = this.body.code || (status === 401 ? "UNAUTHORIZED" : `HTTP_${status}`);
    this.errors = Array.isArray(this.body.errors) ? this.body.errors : [];
  }
}

/** `extra` adds request headers, e.g. `{ "If-Match": "7" }` to write only over the version the page read. */
export async function call(method, path, body, extra = {}) {
  const headers = { Accept: "application/json", ...extra };
  const current = session();
  if (current && !path.startsWith("/local/")) headers.Authorization = `Bearer ${current.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    // no answer (connection dropped, offline): a write may have been done or not; the page says so in words
    throw new ApiProblem(0, { code: "NO_ANSWER", title: "No answer from the service",
      detail: "The connection failed before the service answered, so what was asked may or may not have been done. Check the connection, then try again." });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (!response.ok) throw new ApiProblem(response.status, data);
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);
export const put = (path, body, headers) => call("PUT", path, body, headers);
export const del = (path) => call("DELETE", path);

export const INTEGRATION = "/v1/integrations/smartaccounts";
