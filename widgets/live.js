// Live refresh: the learner's own CohortLab event stream when the page has one, polling
// otherwise.
//
// In JupyterLab and Notebook 7 the cohortlab server extension relays the learner's
// event stream at <baseUrl>cohortlab/api/v1/events (same origin; the page config in
// <script id="jupyter-config-data"> gives baseUrl, and a token only where the page uses
// one). Frames are JSON; a matching `quiz` or `live` event makes the widget ask its
// kernel to refetch (a live round asks for its round only). Where no socket can be
// opened (VS Code, classic Notebook, the extension missing), widgets poll every 30 s
// while they are on screen.
//
// Every widget on a page shares one socket: anywidget imports each widget's module
// separately, so the shared state lives on globalThis under a versioned key. In a shared
// server the widgets act as the person from the browser (person.js) and take their
// frames from the lab client's own stream instead (the `events` option below).

const HUB_KEY = Symbol.for("cohortlab.widgets.events.v1");
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;
// A socket that never opened is most likely refused for good (no relay here); try
// again now and then in case the service was only restarting.
const RETRY_NEVER_OPENED_MS = 5 * 60 * 1000;
const DEBOUNCE_MS = 700;
const TICK_MS = 5000;

/** JupyterLab's page config, or null in front ends that have none (VS Code, static). */
export function pageConfig(doc = globalThis.document) {
  const node = doc?.getElementById?.("jupyter-config-data");
  if (!node) return null;
  try {
    return JSON.parse(node.textContent || "{}");
  } catch {
    return null;
  }
}

/** The relay's WebSocket address for a page config, or null when there is no baseUrl. */
export function eventsUrl(config, pageUrl = globalThis.location?.href) {
  if (!config || typeof config.baseUrl !== "string" || !pageUrl) return null;
  const base = config.baseUrl.endsWith("/") ? config.baseUrl : `${config.baseUrl}/`;
  const url = new URL(`${base}cohortlab/api/v1/events`, pageUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (config.token) url.searchParams.set("token", config.token);
  return url.toString();
}

function createHub() {
  const listeners = new Set();
  let socket = null;
  let connected = false;
  let everConnected = false;
  let timer = 0;
  let delay = RETRY_FIRST_MS;

  function setConnected(value) {
    if (value === connected) return;
    connected = value;
    for (const listener of listeners) listener.connected?.(value);
  }

  function open() {
    timer = 0;
    if (!listeners.size || socket) return;
    const url = eventsUrl(pageConfig());
    if (!url || typeof WebSocket !== "function") return; // another front end: poll
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      retry();
      return;
    }
    socket = ws;
    ws.onmessage = (message) => {
      let frame;
      try {
        frame = JSON.parse(String(message.data));
      } catch {
        return;
      }
      if (!frame || typeof frame !== "object") return;
      if (frame.type === "hello") {
        everConnected = true;
        delay = RETRY_FIRST_MS;
        setConnected(true);
        return;
      }
      for (const listener of listeners) listener.event?.(frame);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      setConnected(false);
      retry();
    };
  }

  function retry() {
    if (!listeners.size || timer) return;
    const wait = everConnected ? delay : RETRY_NEVER_OPENED_MS;
    if (everConnected) delay = Math.min(delay * 2, RETRY_MAX_MS);
    timer = setTimeout(open, wait);
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      listener.connected?.(connected);
      if (!socket && !timer) open();
      return () => {
        listeners.delete(listener);
        if (listeners.size) return;
        clearTimeout(timer);
        timer = 0;
        const ws = socket;
        socket = null;
        connected = false;
        ws?.close();
      };
    },
  };
}

export function eventHub() {
  globalThis[HUB_KEY] ??= createHub();
  return globalThis[HUB_KEY];
}

const REFRESH = Object.freeze({ type: "refresh" });

/**
 * Keep one view of a widget fresh. `matches(frame)` says which `quiz`/`live` events
 * concern it: `true` asks for a whole refresh ({type: "refresh"}), an object
 * `{ message, wait }` asks for that message instead (e.g. a live round's own refetch,
 * after `wait` ms rather than the usual debounce), anything falsy ignores the frame.
 * `poll()` may say how to poll without a socket (`{ everyMs, message }`); the default
 * is a whole refresh every `pollMs`. Requests are debounced and coalesced by message
 * type (a whole refresh covers the rest), skipped while the widget is off screen or the
 * browser tab is hidden (and made up for when it shows again), and deferred while the
 * kernel is still busy with the previous request. The first load is asked at once.
 * `events` is where frames come from (anything with eventHub()'s `subscribe`); the
 * relay's socket by default.
 */
export function liveRefresh(model, el, send, { matches, pollMs = 30000, poll = null, events }) {
  let connected = false;
  let everConnected = false;
  let dirty = false;
  let onScreen = typeof IntersectionObserver !== "function";
  let lastSent = 0;
  let debounce = 0;
  const queued = new Map(); // message type -> the message to send

  const visible = () => onScreen && !globalThis.document?.hidden;

  function flush() {
    if (model.get("busy")) {
      dirty = true;
      return;
    }
    dirty = false;
    if (!queued.size) return;
    const messages = queued.has("refresh") ? [REFRESH] : [...queued.values()];
    queued.clear();
    lastSent = Date.now();
    for (const message of messages) send(message);
  }

  function refreshNow() {
    queued.set("refresh", REFRESH);
    flush();
  }

  function request(message = REFRESH, wait = DEBOUNCE_MS) {
    queued.set(message.type, message);
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = 0;
      if (visible()) flush();
      else dirty = true;
    }, wait);
  }

  const unsubscribe = (events ?? eventHub()).subscribe({
    event(frame) {
      if (frame.type !== "quiz" && frame.type !== "live") return;
      const wanted = matches(frame);
      if (wanted === true) request();
      else if (wanted && typeof wanted === "object") {
        request(wanted.message ?? REFRESH, wanted.wait ?? DEBOUNCE_MS);
      }
    },
    connected(value) {
      connected = value;
      el.dataset.events = value ? "connected" : "offline"; // a hook for browser tests
      // Back after a drop: events may have been missed meanwhile.
      if (value && everConnected) request();
      if (value) everConnected = true;
    },
  });

  const tick = setInterval(() => {
    if (connected || !visible()) return;
    const plan = poll?.() ?? null;
    const every = plan?.everyMs ?? pollMs;
    if (Date.now() - lastSent < every) return;
    queued.set((plan?.message ?? REFRESH).type, plan?.message ?? REFRESH);
    flush();
  }, TICK_MS);

  const onShow = () => {
    if (!dirty || !visible()) return;
    if (!queued.size) queued.set("refresh", REFRESH);
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = 0;
      if (visible()) flush();
    }, DEBOUNCE_MS);
  };
  const onBusy = () => {
    if (!model.get("busy")) onShow();
  };
  model.on("change:busy", onBusy);
  globalThis.document?.addEventListener("visibilitychange", onShow);

  let observer = null;
  if (typeof IntersectionObserver === "function") {
    observer = new IntersectionObserver((entries) => {
      onScreen = entries[entries.length - 1].isIntersecting;
      onShow();
    });
    observer.observe(el);
  }

  refreshNow();

  return {
    refreshNow,
    request,
    /** Whether frames arrive through the relay (else the widget polls). */
    connected: () => connected,
    dispose() {
      unsubscribe();
      clearInterval(tick);
      clearTimeout(debounce);
      observer?.disconnect();
      model.off("change:busy", onBusy);
      globalThis.document?.removeEventListener("visibilitychange", onShow);
    },
  };
}
