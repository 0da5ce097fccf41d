// In a server shared by several people (a cohort workspace), the widgets act from the
// browser, as the person signed in to it, instead of through the shared kernel.
//
// The kernel there holds no hub token that identifies anyone (the service refuses the
// workspace account), and a widget model's synced state is shared by everyone looking at
// the notebook through that kernel. So, when the kernel says the server is shared
// (`shared_server`), each view gets a PersonModel: a stand-in for the anywidget model
// with the same get/on/off/send, whose state lives in this browser only and whose
// messages ({type: "refresh"}, {type: "answer"}, the live round's) are carried out here,
// against the service, through the bridge that CohortLab's JupyterLab extension puts on
// the page (extensions/labextension/src/widgetBridge.ts). The bridge is the lab client
// in direct mode: the person's own OAuth cookie for the service, with its sign-in. The
// shared model is read for what the notebook says (quiz id, course, cohort, top) and
// nothing is ever written to it or sent to the kernel.

const BRIDGE_KEY = Symbol.for("cohortlab.widgets.bridge.v1");
// The lab extension puts the bridge there when it starts, normally before any output
// renders; a widget restored early waits for it this long.
const BRIDGE_WAIT_MS = 5000;
const BRIDGE_POLL_MS = 100;

export const NO_BRIDGE =
  "This server is shared by several people, so CohortLab answers for you from your " +
  "browser, through CohortLab's JupyterLab extension, which is not running on this page. " +
  "Open the notebook in JupyterLab (or Notebook 7) on this server, or take the quiz in " +
  "your own server.";
export const NOT_DIRECT =
  "This server is shared by several people, but CohortLab's extension here talks to the " +
  "service with the server's token, which would answer as the server's owner, not as " +
  "you. Take the quiz in your own server, and tell your instructor.";

/** The bridge on this page, or null. */
export function findBridge() {
  const bridge = globalThis[BRIDGE_KEY];
  return bridge && bridge.version === 1 ? bridge : null;
}

/** The bridge once the lab extension has put it on the page (null if it never does). */
export function waitForBridge(waitMs = BRIDGE_WAIT_MS) {
  const found = findBridge();
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const bridge = findBridge();
      if (bridge || Date.now() - started >= waitMs) {
        clearInterval(timer);
        resolve(bridge);
      }
    }, BRIDGE_POLL_MS);
  });
}

/** A problem as the widgets show it (the kernel's `error` trait has the same shape). */
export function problem(status, code, message, during, question = null) {
  return { status, code, message, during, question };
}

/** The named keys of a service answer, verbatim (as the kernel's `pick`). */
export function pick(data, ...keys) {
  if (!data || typeof data !== "object" || keys.some((k) => !(k in data))) {
    throw problem(
      502,
      "bad_response",
      "The CohortLab service sent an answer this widget could not read; " +
        "try again, or tell your instructor if it keeps happening.",
    );
  }
  return Object.fromEntries(keys.map((k) => [k, data[k]]));
}

/** One URL path segment: a quiz id or course name can never reach another route. */
export function segment(value) {
  return encodeURIComponent(String(value));
}

/**
 * A model of this browser's own: anywidget's get/on/off/send, state kept here. `send`
 * hands each message to `actions.handle(message)`, one at a time and in order, as a
 * kernel would; the actions change the state with `update()`.
 */
export class PersonModel {
  constructor(initial, makeActions) {
    this.personal = true;
    this.state = { ...initial };
    this.handlers = new Map();
    this.queue = Promise.resolve();
    this.disposed = false;
    this.actions = makeActions(this);
  }

  get(key) {
    return this.state[key];
  }

  /** Set several keys, then tell the listeners (as the kernel's hold_sync). */
  update(changes) {
    if (this.disposed) return;
    const changed = Object.keys(changes).filter(
      (key) => JSON.stringify(this.state[key]) !== JSON.stringify(changes[key]),
    );
    Object.assign(this.state, changes);
    for (const key of changed) {
      for (const f of this.handlers.get(`change:${key}`) ?? []) f();
    }
  }

  set(key, value) {
    this.update({ [key]: value });
  }

  on(event, f) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), f]);
  }

  off(event, f) {
    this.handlers.set(
      event,
      (this.handlers.get(event) ?? []).filter((g) => g !== f),
    );
  }

  send(message) {
    if (this.disposed || !message || typeof message !== "object") return;
    this.queue = this.queue
      .then(() => this.actions.handle(message))
      .catch((error) => console.error("CohortLab widget:", error));
  }

  dispose() {
    this.disposed = true;
    this.handlers.clear();
  }
}

/**
 * What every personal widget shares: the bridge, `busy` around each request, and any
 * failure as `error` state with the service's own message (never an exception).
 */
export class PersonActions {
  constructor(model) {
    this.model = model;
    this.bridge = null;
    this.ready = waitForBridge().then(async (bridge) => {
      if (!bridge) throw problem(0, "no_bridge", NO_BRIDGE, "load");
      let mode;
      try {
        mode = await bridge.mode();
      } catch {
        mode = null;
      }
      if (mode !== "direct") throw problem(409, "not_direct", NOT_DIRECT, "load");
      this.bridge = bridge;
      return bridge;
    });
    this.ready.catch(() => {}); // reported at the first message
  }

  /** The message's handler (subclasses); unknown messages are ignored, as by the kernel. */
  handlers() {
    return { refresh: () => this.refresh() };
  }

  async handle(message) {
    const handler = this.handlers()[String(message.type)];
    if (handler) await handler(message);
  }

  async refresh() {}

  /** GET (`body` left out), POST without a body (`null`) or with one, relative to `api/v1/`. */
  request(path, body) {
    if (body === undefined) return this.bridge.request(path, {});
    return this.bridge.request(path, body === null ? { method: "POST" } : { method: "POST", body });
  }

  /**
   * Run one request with `busy` set; its result, or null after a failure (which is then
   * `error` state). `fn` must not resolve to null itself.
   */
  async call(during, fn, question = null) {
    try {
      await this.ready;
    } catch (reason) {
      this.fail(during, reason.status, reason.code, reason.message, question);
      return null;
    }
    this.model.set("busy", true);
    try {
      return await fn();
    } catch (reason) {
      const status = Number(reason?.status) || 0;
      const message = reason?.message ? String(reason.message) : String(reason);
      this.fail(during, status, String(reason?.code ?? "error"), message, question);
      return null;
    } finally {
      this.model.set("busy", false);
    }
  }

  fail(during, status, code, message, question) {
    const changes = { error: problem(status, code, message, during, question) };
    if (this.model.get("status") !== "ready") changes.status = "error";
    this.model.update(changes);
  }

  /** Fill `course` from `GET quizzes/{quiz}` when the notebook did not say it. */
  async resolveCourse(quizId, example) {
    if (this.model.get("course")) return true;
    const found = await this.call("load", async () =>
      pick(await this.request(`quizzes/${segment(quizId)}`), "courses"),
    );
    if (found === null) return false;
    const courses = (found.courses ?? []).map(String);
    if (courses.length === 1) {
      this.model.set("course", courses[0]);
      return true;
    }
    if (!courses.length) {
      this.fail("load", 404, "not_found", `None of your courses has a quiz '${quizId}'.`, null);
    } else {
      this.fail(
        "load",
        409,
        "ambiguous_course",
        `The quiz '${quizId}' is in several of your courses (${courses.join(", ")}). ` +
          `Say which one, e.g. ${example(courses[0])}`,
        null,
      );
    }
    return false;
  }
}

/**
 * A PersonModel for a view in a shared server, or null in a person's own server (where
 * the kernel acts, as it always has). `keys` are what the notebook says (copied from the
 * shared model); `initial` the per-person state.
 */
export function personalModel(shared, keys, initial, Actions) {
  if (!shared.get("shared_server")) return null;
  const given = Object.fromEntries(keys.map((key) => [key, shared.get(key)]));
  return new PersonModel(
    { status: "idle", error: null, busy: false, ...initial, ...given },
    (model) => new Actions(model),
  );
}

/**
 * anywidget's render for a view class: on the shared model in a person's own server, on
 * a PersonModel in a shared server. Should `shared_server` only arrive after the first
 * render (a model restored from an older kernel), the view is made again, personal.
 */
export function renderView(model, el, View, keys, initial, Actions) {
  let personal = personalModel(model, keys, initial, Actions);
  let view = new View(personal ?? model, el);
  const onShared = () => {
    if (personal || !model.get("shared_server")) return;
    view.dispose();
    personal = personalModel(model, keys, initial, Actions);
    view = new View(personal, el);
  };
  model.on("change:shared_server", onShared);
  return () => {
    model.off("change:shared_server", onShared);
    view.dispose();
    personal?.dispose();
  };
}

/** Events for a personal widget: the bridge's stream (the lab client's own socket). */
export function bridgeEvents(model) {
  return {
    subscribe(listener) {
      let unsubscribe = null;
      let gone = false;
      model.actions.ready.then(
        (bridge) => {
          if (!gone) unsubscribe = bridge.subscribe(listener);
        },
        () => listener.connected?.(false),
      );
      return () => {
        gone = true;
        unsubscribe?.();
      };
    },
  };
}
