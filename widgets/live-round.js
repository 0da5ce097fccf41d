// The live round panel of the Quiz widget: which round is on screen, its countdown, and
// whether the learner's or the host's side shows it.
//
// What is shown is the service's LiveView (synced by the kernel as `live`). Event frames
// (`live` events through the relay) arrive before the kernel's refetch: a frame newer
// than the view is laid over it at once (the phase and the countdown; on close, the
// room's results), and the kernel is asked for the view only when the frame does not
// already carry what is shown. The countdown starts from the service's `remaining` at
// the moment it arrives and counts down locally; it is display only.

import { errorTitle, h, setText } from "./dom.js";
import { Countdown } from "./countdown.js";
import { HostView } from "./live-host.js";
import { PlayerView } from "./live-play.js";

const PHASE_RANK = { lobby: 0, open: 1, closed: 2, ended: 3 };
// Frames come in bursts for a whole class: coalesce briefly, but every second counts.
const LIVE_WAIT_MS = 150;
// After the local countdown reached zero, ask for the round if no close came meanwhile.
const LATE_CLOSE_MS = 2500;
// The host's player count has no event: refetch it this often while learners join.
const HOST_POLL_MS = 5000;
const LIVE_POLL_MS = 5000;
const LIVE_ACTIONS = new Set([
  "live_refresh",
  "join",
  "answer_live",
  "start",
  "next",
  "close",
  "end",
]);
const LIVE_SAFETY_MS = 60000;

/** The order of a round's screens: a later question, or a later phase of the same one. */
function roundKey(state) {
  const phase = state?.phase ?? "lobby";
  return [phase === "ended" ? 1 : 0, Number(state?.question ?? -1), PHASE_RANK[phase] ?? 0];
}

function compareKeys(a, b) {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

export class LiveRound {
  constructor(model, send) {
    this.model = model;
    this.send = send; // (message) => whether a kernel took it
    this.request = () => {};
    this.onLayout = () => {}; // the quiz shows or hides its questions (takesOver())
    this.frame = null;
    this.anchor = null;
    this.localPending = null;
    this.safety = 0;
    this.lateClose = 0;

    this.title = h("h3", { class: "cl-w-title cl-live-title", testid: "live-title" });
    this.status = h("p", { class: "cl-live-status", testid: "live-status" });
    this.problem = h("div", { class: "cl-w-problem", testid: "live-error", role: "alert" });
    this.countdown = new Countdown("live-countdown");
    this.player = new PlayerView((message) => this.act(message));
    this.host = new HostView(
      (message) => this.act(message),
      () => model.get("quiz")?.live ?? null,
    );
    this.body = h("div", { class: "cl-live-slot" });
    // Notebook shortcuts (Enter edits a cell, arrows move between cells) must not take
    // the keys of the round's buttons and answer controls.
    this.node = h(
      "section",
      { class: "cl-live", testid: "live", "data-lm-suppress-shortcuts": "true", hidden: true },
      h("header", { class: "cl-live-header" }, this.title, this.status),
      this.problem,
      this.countdown.node,
      this.body,
    );
    this.countdown.hide();

    this.onLive = () => this.anchorFromView();
    this.onChange = () => this.update();
    this.onPending = () => {
      if (!model.get("live_pending") && this.localPending !== null) this.clearPending();
    };
    model.on("change:live", this.onLive);
    for (const name of ["live", "live_ack", "host", "busy", "error", "quiz"]) {
      model.on(`change:${name}`, this.onChange);
    }
    model.on("change:live_pending", this.onPending);
    this.hostPoll = setInterval(() => {
      const round = this.round;
      if (round?.host && round.view && ["lobby", "open"].includes(round.phase)) {
        this.request({ message: { type: "live_refresh", session: round.session.id }, wait: 0 });
      }
    }, HOST_POLL_MS);
  }

  /** `request({message, wait})` asks liveRefresh for a debounced refetch. */
  connect(request) {
    this.request = ({ message, wait }) => request(message, wait);
  }

  dispose() {
    this.countdown.dispose();
    clearInterval(this.hostPoll);
    clearTimeout(this.safety);
    clearTimeout(this.lateClose);
    this.model.off("change:live", this.onLive);
    for (const name of ["live", "live_ack", "host", "busy", "error", "quiz"]) {
      this.model.off(`change:${name}`, this.onChange);
    }
    this.model.off("change:live_pending", this.onPending);
  }

  // -- the kernel ------------------------------------------------------------------------

  act(message) {
    if (this.inFlight()) return false;
    if (!this.send(message)) return false;
    this.localPending = message.type;
    clearTimeout(this.safety);
    this.safety = setTimeout(() => this.clearPending(), LIVE_SAFETY_MS);
    this.update();
    return true;
  }

  clearPending() {
    clearTimeout(this.safety);
    this.localPending = null;
    this.update();
  }

  inFlight() {
    return Boolean(this.model.get("busy")) || this.localPending !== null;
  }

  // -- event frames ----------------------------------------------------------------------

  /**
   * A `live` frame for this quiz: what to ask the kernel for (`{message, wait}`), or
   * null when the frame itself has what is shown (or is about an older round).
   */
  onFrame(frame) {
    const view = this.model.get("live");
    const shown = view?.session?.id;
    const refetch = (session) => ({
      message: session === undefined ? { type: "live_refresh" } : { type: "live_refresh", session },
      wait: LIVE_WAIT_MS,
    });
    if (typeof frame.session !== "number" || !frame.state) {
      // "started" (to the whole course) or a frame this version does not know.
      return frame.session !== undefined && frame.session === shown ? null : refetch();
    }
    if (shown !== undefined && frame.session < shown) return null;
    if (frame.session !== shown) return refetch();
    const order = compareKeys(roundKey(frame.state), roundKey(view.session));
    if (order <= 0) return null; // my own step's answer already showed it
    this.frame = frame;
    if (frame.state.phase === "open") {
      this.setAnchor(frame.session, frame.state.question, frame.state.remaining);
    }
    this.update();
    const sameQuestion = frame.state.question === view.session.question;
    if (frame.state.phase === "ended" && sameQuestion && view.results) return null;
    return refetch(frame.session);
  }

  /** Without the relay, poll the round itself while one is being played or hosted. */
  pollPlan() {
    const round = this.round;
    if (!round?.view || round.phase === "ended" || !(round.joined || round.host)) return null;
    return {
      everyMs: LIVE_POLL_MS,
      message: { type: "live_refresh", session: round.session.id },
    };
  }

  // -- the countdown -----------------------------------------------------------------------

  anchorFromView() {
    const view = this.model.get("live");
    if (view?.session?.phase === "open") {
      this.setAnchor(view.session.id, view.session.question, view.session.remaining);
    }
  }

  setAnchor(session, question, remaining) {
    this.anchor = {
      key: `${session}:${question}`,
      deadline: performance.now() + Math.max(0, Number(remaining) || 0) * 1000,
      fresh: true,
    };
  }

  showCountdown(round) {
    const key = `${round.session.id}:${round.session.question}`;
    if (round.phase === "open" && this.anchor?.key === key) {
      if (this.anchor.fresh) {
        this.anchor.fresh = false;
        const remaining = (this.anchor.deadline - performance.now()) / 1000;
        const total = Number(round.session.options?.countdown) || remaining;
        const opened = Date.parse(round.session.opened_at ?? "");
        const deadline = Date.parse(round.session.deadline ?? "");
        const length =
          Number.isFinite(opened) && Number.isFinite(deadline) ? (deadline - opened) / 1000 : total;
        this.countdown.start(key, remaining, length, () => this.afterZero(key));
      }
    } else if (round.phase === "open") {
      this.countdown.hide(); // a view from before this page: wait for a fresh one
    } else if (round.phase === "closed" && round.session.question >= 0) {
      this.countdown.stop("Answers closed", this.countdown.key === key);
    } else {
      this.countdown.hide();
    }
  }

  afterZero(key) {
    clearTimeout(this.lateClose);
    this.lateClose = setTimeout(() => {
      const round = this.round;
      const now = round && `${round.session.id}:${round.session.question}`;
      if (round?.phase === "open" && now === key) {
        this.request({ message: { type: "live_refresh", session: round.session.id }, wait: 0 });
      }
    }, LATE_CLOSE_MS);
  }

  // -- rendering -----------------------------------------------------------------------------

  /** The round to show: the service's view, with a newer frame's state laid over it. */
  derive() {
    const model = this.model;
    const view = model.get("live");
    const host = Boolean(model.get("host"));
    const error = model.get("error");
    const base = {
      host,
      view,
      busy: this.inFlight(),
      pending: model.get("live_pending") || this.localPending || "",
      error: error && LIVE_ACTIONS.has(error.during) ? error : null,
    };
    if (!view) return { ...base, phase: null, session: null };
    let frame = this.frame;
    if (
      frame &&
      (frame.session !== view.session.id ||
        compareKeys(roundKey(frame.state), roundKey(view.session)) <= 0)
    ) {
      frame = this.frame = null;
    }
    const session = frame ? { ...view.session, ...frame.state } : view.session;
    const sameQuestion = session.question === view.session.question;
    const question = sameQuestion ? view.question : null;
    let results = sameQuestion && view.results?.question === question?.id ? view.results : null;
    if (!results && frame?.results && frame.state.question === session.question) {
      results = frame.results;
    }
    const ack = model.get("live_ack");
    return {
      ...base,
      session,
      phase: session.phase,
      stale: Boolean(frame), // the view is behind the round: the kernel is fetching it
      joined: Boolean(view.joined),
      question,
      results,
      myAnswer: sameQuestion ? (view.my_answer ?? null) : null,
      me: view.me ?? null,
      ack: ack && question && ack.question === question.id ? ack : null,
    };
  }

  /** Whether the round replaces the self-paced questions on screen (a round being played
   * or hosted is what the learner or the room should look at). */
  takesOver() {
    const round = this.round;
    return Boolean(round?.view && round.phase !== "ended" && (round.joined || round.host));
  }

  update() {
    const round = (this.round = this.derive());
    const visible = round.host || Boolean(round.view && (round.joined || round.phase !== "ended"));
    this.node.hidden = !visible;
    this.onLayout();
    if (!visible) {
      this.countdown.hide();
      return;
    }
    this.node.dataset.role = round.host ? "host" : "learner";
    this.node.dataset.phase = round.phase ?? "none";
    this.node.setAttribute("aria-busy", String(round.busy));
    setText(this.title, round.view ? `Live round: ${round.session.title}` : "Live round");
    setText(this.status, this.statusText(round));
    const problem = round.error ? `${errorTitle(round.error)}: ${round.error.message}` : "";
    // A refused answer is shown next to the answer form instead.
    const shown = round.error?.during === "answer_live" && round.phase === "open" ? "" : problem;
    setText(this.problem, shown);
    this.problem.hidden = !shown;
    if (round.view) this.showCountdown(round);
    else this.countdown.hide();
    const view = round.host ? this.host : this.player;
    if (this.body.firstChild !== view.node) this.body.replaceChildren(view.node);
    if (round.host || round.view) view.update(round);
  }

  statusText(round) {
    if (!round.view) return "No live round is running.";
    const { session, phase } = round;
    const parts = [];
    if (phase === "lobby") parts.push("Waiting to start");
    else if (phase === "ended") parts.push("Ended");
    else {
      parts.push(`Question ${session.question + 1} of ${session.question_count}`);
      if (phase === "closed") parts.push("answers closed");
    }
    if (round.host && typeof session.players === "number") {
      parts.push(`${session.players} ${session.players === 1 ? "player" : "players"}`);
    }
    if (session.team_mode === "cohorts") parts.push("cohorts compete");
    if (session.team_mode === "teams") parts.push(`teams of cohort ${session.team_cohort}`);
    if (!round.host && round.me?.team) parts.push(`your team: ${round.me.team}`);
    return parts.join(" · ");
  }
}
