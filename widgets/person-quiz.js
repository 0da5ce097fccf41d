// The Quiz's requests made from the browser, as the person, in a shared server (see
// person.js). The same steps as the kernel's cohortlab.widgets.Quiz and LiveRounds, so
// the views cannot tell the difference: the same state, picked verbatim from the
// service's answers (a staff member's `spec`, which holds the key, is dropped at once),
// and the same errors.

import { PersonActions, pick, problem, segment } from "./person.js";

const VIEW_KEYS = ["session", "joined", "question"];
const VIEW_OPTIONAL = ["me", "my_answer", "results"];
const ACK_KEYS = ["received", "question", "elapsed"];
const START_FIELDS = ["team_mode", "team_cohort", "countdown"];
const PERSON_LIVE_ACTIONS = [
  "live_refresh",
  "join",
  "answer_live",
  "start",
  "next",
  "close",
  "end",
];
const NO_ROUND = "No live round of this quiz is running now; wait for the instructor to start one.";

/** The synced-state keys a personal Quiz starts with (as the kernel's traits). */
export const QUIZ_INITIAL = {
  quiz: null,
  question_states: {},
  score: null,
  max_score: null,
  pending_question: "",
  previews: {},
  live: null,
  live_ack: null,
  live_pending: "",
  host: false,
};

/** The parts of a LiveView the widget shows, verbatim. */
function liveView(data) {
  const view = pick(data, ...VIEW_KEYS);
  if (!view.session || typeof view.session !== "object" || !("id" in view.session)) {
    pick(null, "session"); // throws the unreadable-answer problem
  }
  for (const key of VIEW_OPTIONAL) if (key in data) view[key] = data[key];
  return view;
}

function viewKey(view) {
  if (!view) return null;
  const { session } = view;
  return JSON.stringify([session.id ?? null, session.question ?? null, session.phase ?? null]);
}

function isInt(value) {
  return Number.isInteger(value) && typeof value !== "boolean";
}

export class QuizActions extends PersonActions {
  handlers() {
    return {
      ...super.handlers(),
      answer: (m) => (typeof m.question === "string" && "answer" in m ? this.submit(m) : null),
      live_refresh: (m) => this.onLiveRefresh(m),
      join: () => this.join(),
      answer_live: (m) =>
        typeof m.question === "string" && "answer" in m ? this.answerLive(m) : null,
      start: (m) => this.start(m),
      next: (m) => this.sessionStep("next", m.countdown == null ? {} : { countdown: m.countdown }),
      close: () => this.sessionStep("close", null),
      end: () => this.sessionStep("end", null),
    };
  }

  get error() {
    return this.model.get("error");
  }

  path() {
    const m = this.model;
    return `courses/${segment(m.get("course"))}/quizzes/${segment(m.get("quiz_id"))}`;
  }

  async refresh() {
    const m = this.model;
    if (m.get("status") !== "ready") m.set("status", "loading");
    const id = m.get("quiz_id");
    if (!(await this.resolveCourse(id, (c) => `Quiz('${id}', course='${c}')`))) return;
    const during = m.get("status") === "ready" ? "refresh" : "load";
    const data = await this.call(during, async () => {
      const body = await this.request(this.path());
      // Only staff get the spec (with the key): it only says to show the host controls.
      return { ...pick(body, "quiz", "state", "score", "max_score"), host: "spec" in body };
    });
    if (data === null) return;
    const error = this.error;
    m.update({
      quiz: data.quiz,
      question_states: data.state,
      score: data.score,
      max_score: data.max_score,
      host: data.host,
      status: "ready",
      error: error && ["load", "refresh"].includes(error.during) ? null : error,
    });
    await this.refreshLive();
  }

  async submit({ question, answer }) {
    const m = this.model;
    if (m.get("status") !== "ready") {
      await this.refresh();
      if (m.get("status") !== "ready") return;
    }
    m.update({ error: null, pending_question: question });
    let resp;
    try {
      resp = await this.call(
        "answer",
        async () => {
          const body = await this.request(`${this.path()}/answers`, { question, answer });
          if (body?.preview === true) return { ...pick(body, "result", "question"), preview: true };
          return pick(body, "result", "question", "score", "max_score");
        },
        question,
      );
    } finally {
      m.set("pending_question", "");
    }
    if (resp === null) {
      if (this.error?.status === 409) await this.refresh();
      return;
    }
    if (resp.preview) {
      m.set("previews", { ...m.get("previews"), [question]: resp.result });
      return;
    }
    m.update({
      question_states: { ...m.get("question_states"), [question]: resp.question },
      score: resp.score,
      max_score: resp.max_score,
    });
  }

  // -- live rounds ---------------------------------------------------------------------

  sessionId() {
    const value = this.model.get("live")?.session?.id;
    return isInt(value) ? value : null;
  }

  sessionPath(id, rest = "") {
    return `courses/${segment(this.model.get("course"))}/live/${id}${rest}`;
  }

  async onLiveRefresh({ session }) {
    if (this.model.get("status") !== "ready") {
      await this.refresh();
      return;
    }
    await this.refreshLive(isInt(session) ? session : null);
  }

  async refreshLive(sessionId = null) {
    const m = this.model;
    if (!m.get("course")) return false;
    const path =
      sessionId !== null && sessionId === this.sessionId()
        ? this.sessionPath(sessionId)
        : `${this.path()}/live`;
    const found = await this.call("live_refresh", async () => {
      try {
        return { view: liveView(await this.request(path)) };
      } catch (reason) {
        if (reason?.status === 404 && reason?.code === "no_session") return { view: null };
        throw reason;
      }
    });
    if (found === null) return false;
    this.show(found.view);
    if (this.error?.during === "live_refresh") m.set("error", null);
    return true;
  }

  show(view) {
    const m = this.model;
    const changes = { live: view };
    if (viewKey(view) !== viewKey(m.get("live"))) {
      changes.live_ack = null;
      if (PERSON_LIVE_ACTIONS.includes(this.error?.during)) changes.error = null;
    }
    m.update(changes);
  }

  async join() {
    if (this.sessionId() === null && !(await this.refreshLive())) return;
    const id = this.sessionId();
    if (id === null) {
      this.failLive("join");
      return;
    }
    await this.step("join", () => this.request(this.sessionPath(id, "/join"), null));
  }

  async answerLive({ question, answer }) {
    const m = this.model;
    const id = this.sessionId();
    if (id === null) {
      this.failLive("answer_live", question);
      return;
    }
    this.clearLiveError();
    m.set("live_pending", "answer_live");
    let ack;
    try {
      const path = this.sessionPath(id, "/answers");
      ack = await this.call(
        "answer_live",
        async () => pick(await this.request(path, { question, answer }), ...ACK_KEYS),
        question,
      );
    } finally {
      m.set("live_pending", "");
    }
    if (ack === null) {
      await this.reloadAfterRefusal();
      return;
    }
    m.set("live_ack", ack);
  }

  async start(message) {
    const body = {};
    for (const key of START_FIELDS) if (message[key] != null) body[key] = message[key];
    await this.step("start", () => this.request(`${this.path()}/live`, body));
  }

  async sessionStep(action, body) {
    const id = this.sessionId();
    if (id === null) {
      this.failLive(action);
      return;
    }
    await this.step(action, () => this.request(this.sessionPath(id, `/${action}`), body));
  }

  async step(action, send) {
    const m = this.model;
    this.clearLiveError();
    m.set("live_pending", action);
    let view;
    try {
      view = await this.call(action, async () => liveView(await send()));
    } finally {
      m.set("live_pending", "");
    }
    if (view === null) {
      await this.reloadAfterRefusal();
      return;
    }
    this.show(view);
  }

  failLive(during, question = null) {
    const error = problem(404, "no_session", NO_ROUND, during, question);
    this.fail(during, error.status, error.code, error.message, question);
  }

  clearLiveError() {
    if (PERSON_LIVE_ACTIONS.includes(this.error?.during)) this.model.set("error", null);
  }

  /** After a 403/409 the round has usually moved on: show where it is, keep the reason. */
  async reloadAfterRefusal() {
    const error = this.error;
    if (!error || ![403, 409].includes(error.status)) return;
    await this.refreshLive();
    if (this.error === null) this.model.set("error", error);
  }
}
