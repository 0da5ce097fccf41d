// Small DOM helpers shared by the widgets. Nothing here uses innerHTML: every piece of
// text from the service goes through textContent, so it can never become markup.

let counter = 0;

/** A page-unique id for label/aria wiring (several widgets may share one page). */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}

/**
 * Create an element. `props`: `class`, `text`, `testid` (data-testid), `on<event>`
 * listeners, `value`/`checked` as properties; `true` sets an empty attribute and
 * `false`/`null`/`undefined` leaves it out. Children may be nodes, strings or arrays.
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "testid") node.dataset.testid = value;
    else if (key === "value" || key === "checked") node[key] = value;
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  appendAll(node, children);
  return node;
}

function appendAll(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** Replace a node's text only when it differs, so live regions announce real changes only. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Replace a node's children only when their text differs (same reason as setText). */
export function setContent(node, signature, ...children) {
  if (node.dataset.signature === signature) return;
  node.dataset.signature = signature;
  node.replaceChildren();
  appendAll(node, children);
}

/** A number as a person reads it: at most two decimals, in the viewer's locale. */
export function formatNumber(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "–";
  return value.toLocaleString(undefined, { maximumFractionDigits: 2 });
}

export function plural(count, one, many) {
  return `${formatNumber(count)} ${count === 1 ? one : many}`;
}

const TIME_FORMAT = {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZoneName: "short",
};

/** A UTC ISO time from the service as a <time>, shown in the viewer's own time zone. */
export function timeElement(iso) {
  const date = new Date(iso);
  const text = Number.isNaN(date.getTime())
    ? String(iso)
    : new Intl.DateTimeFormat(undefined, TIME_FORMAT).format(date);
  return h("time", { datetime: iso, text });
}

export function parseTime(iso) {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(ms) ? null : ms;
}

/** A short heading for an error the kernel reported; the service's message follows it. */
export function errorTitle(error) {
  const status = error?.status ?? 0;
  if (error?.code === "ambiguous_course") return "Which course?";
  if (error?.code === "no_token") return "No JupyterHub sign-in in this kernel";
  if (error?.code === "shared_server") return "Not in a shared server";
  if (error?.code === "no_bridge" || error?.code === "not_direct") return "Not from this page";
  if (status === 401) return "Not signed in to CohortLab";
  if (status === 403) return "Not available to you";
  if (status === 404) return "Not found";
  if (status === 409) return "Not possible now";
  if (status === 429) return "Too many requests: wait a moment, then try again";
  if (status >= 500) return "CohortLab is not reachable right now";
  return "Something went wrong";
}

/** Send to the kernel; static renderers have no kernel and may throw, which is harmless. */
export function sendToKernel(model, message) {
  try {
    model.send(message);
    return true;
  } catch (error) {
    console.debug("CohortLab widget: no kernel to send to", error);
    return false;
  }
}

/**
 * The loading view. After a while it says why it may never finish: the widget only
 * talks to the service through a running kernel (or, `personal`, from this browser).
 */
export function loadingView(what, testid, personal = false) {
  const hint = h("p", {
    class: "cl-w-hint",
    hidden: true,
    // A personal widget (a shared server, person.js) waits for the service, not a kernel.
    text: personal
      ? "Still waiting for the CohortLab service. If this does not change, reload the page."
      : `Still waiting for the kernel. ${what} needs a running kernel: ` +
        "if this notebook's kernel is not running, start it and run this cell again.",
  });
  const node = h(
    "div",
    { class: "cl-w-loading", testid, role: "status" },
    h("span", { class: "cl-w-spinner", "aria-hidden": "true" }),
    h("span", { text: `Loading ${what.toLowerCase()}…` }),
    hint,
  );
  const timer = setTimeout(() => (hint.hidden = false), 10000);
  return { node, dispose: () => clearTimeout(timer) };
}

/** The error view: a heading, the service's message, and a retry button. */
export function errorView(error, testid, onRetry) {
  return h(
    "div",
    { class: "cl-w-error", testid, role: "alert" },
    h("p", { class: "cl-w-error-title", text: errorTitle(error) }),
    h("p", {
      class: "cl-w-error-message",
      testid: `${testid}-message`,
      text: error?.message ?? "",
    }),
    onRetry &&
      h("button", {
        type: "button",
        class: "cl-w-button",
        testid: `${testid}-retry`,
        text: "Try again",
        onclick: onRetry,
      }),
  );
}

/**
 * Enter in an input of `form` submits it. Browsers do that by themselves (implicit
 * submission), but not inside JupyterLab's output areas (seen in Chromium with
 * JupyterLab 4.6: no submit and no click follow the key, though no one prevents it),
 * so the widgets' answer forms do it themselves.
 */
export function submitOnEnter(event) {
  const target = event.target;
  if (event.key !== "Enter" || event.isComposing || target?.tagName !== "INPUT") return;
  if (event.shiftKey || event.ctrlKey || event.altKey || event.metaKey) return;
  const form = target.form;
  if (!form) return;
  event.preventDefault();
  form.requestSubmit();
}
