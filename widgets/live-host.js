// The instructor's side of a live round: start one (team mode, countdown), show the next
// question, close it early, end the round, and a presenter view fit for a projector:
// the question with its countdown and the number of players while it is open, then the
// distribution of answers and the board with real names (the service sends staff real
// names) once it has closed.
//
// Only instructors get here (the service sends them the quiz's spec); the service still
// checks every step and its refusal is shown in the live panel.

import { h, plural, setContent, setText, submitOnEnter, uid } from "./dom.js";
import { resultsView } from "./live-results.js";
import { renderInline, renderMarkdown } from "./markdown.js";

const TEAM_MODES = [
  ["none", "No teams"],
  ["cohorts", "Cohorts compete"],
  ["teams", "Teams within a cohort"],
];

function labelled(text, control) {
  const id = uid("cl-live-field");
  control.id = id;
  return h("div", { class: "cl-quiz-field cl-live-field" }, h("label", { for: id, text }), control);
}

/** The open question as the room sees it on the projector: prompt and choices. */
function presenterQuestion(question) {
  let body = null;
  if (question.choices) {
    body = h(
      "ol",
      { class: "cl-live-present-choices", type: "A" },
      question.choices.map((choice) => h("li", {}, renderInline(choice.text))),
    );
  } else if (question.items) {
    body = h(
      "ul",
      { class: "cl-live-present-choices" },
      question.items.map((item) => h("li", {}, renderInline(item.text))),
    );
  } else {
    const what = question.type === "numeric" ? "a number" : "a short answer";
    body = h("p", { class: "cl-w-hint", text: `Learners type ${what} in their notebook.` });
  }
  return h(
    "div",
    { class: "cl-live-present", testid: "live-presenter-question" },
    h("div", { class: "cl-quiz-prompt cl-live-prompt" }, renderMarkdown(question.prompt)),
    body,
  );
}

export class HostView {
  constructor(act, defaults) {
    this.act = act;
    this.defaults = defaults; // () => the quiz's live options
    this.node = h("div", { class: "cl-live-body" });
    this.controls = this.buildControls();
    this.stage = h("div", { class: "cl-live-stage", testid: "live-presenter" });
    this.startForm = null;
    this.screen = null;
  }

  update(round) {
    this.round = round;
    const running = round.view && round.phase !== "ended";
    const screen = running ? "running" : "idle";
    if (screen !== this.screen) {
      this.screen = screen;
      if (running) this.node.replaceChildren(this.controls.node, this.stage);
      else this.node.replaceChildren(...this.buildIdle());
    }
    if (running) {
      this.updateControls(round);
      this.updateStage(round);
    } else {
      this.updateIdle(round);
    }
  }

  // -- no round running: the start form (and the last round's final board) ---------------

  buildIdle() {
    const mode = h(
      "select",
      { testid: "live-team-mode", onchange: () => this.updateIdle(this.round) },
      TEAM_MODES.map(([value, text]) => h("option", { value, text })),
    );
    const cohort = h("input", {
      type: "text",
      testid: "live-team-cohort",
      autocomplete: "off",
      placeholder: "cohort name",
    });
    const countdown = h("input", {
      type: "number",
      testid: "live-countdown-input",
      min: "5",
      max: "300",
      step: "1",
      value: String(this.defaults()?.countdown ?? 20),
    });
    const start = h("button", {
      type: "submit",
      class: "cl-w-button cl-w-primary",
      testid: "live-start",
      text: "Start live round",
    });
    const cohortField = labelled("Cohort whose teams compete", cohort);
    const form = h(
      "form",
      {
        class: "cl-live-start",
        testid: "live-start-form",
        novalidate: true,
        onkeydown: submitOnEnter,
        onsubmit: (event) => {
          event.preventDefault();
          const message = { type: "start", team_mode: mode.value };
          if (mode.value === "teams") message.team_cohort = cohort.value.trim();
          const seconds = Number(countdown.value);
          if (countdown.value.trim() && Number.isFinite(seconds)) {
            message.countdown = Math.round(seconds);
          }
          this.act(message);
        },
      },
      h(
        "fieldset",
        {},
        h("legend", { text: "Start a live round" }),
        h(
          "p",
          {
            class: "cl-w-hint",
            text:
              "Learners join from this quiz in their notebooks; you show one question at a " +
              "time, and answers close when the countdown reaches zero.",
          },
        ),
        h(
          "div",
          { class: "cl-live-fields" },
          labelled("Teams", mode),
          cohortField,
          labelled("Seconds per question", countdown),
        ),
        h("div", { class: "cl-quiz-actions" }, start),
      ),
    );
    this.startForm = { form, mode, cohortField, start };
    this.lastRound = h("div", { class: "cl-live-last" });
    return [form, this.lastRound];
  }

  updateIdle(round) {
    if (!this.startForm) return;
    const { mode, cohortField, start } = this.startForm;
    cohortField.hidden = mode.value !== "teams";
    start.disabled = round.busy;
    setText(start, round.pending === "start" ? "Starting…" : "Start live round");
    const ended = round.view && round.phase === "ended" && round.results;
    setContent(
      this.lastRound,
      JSON.stringify(ended ? [round.session.id, round.results] : null),
      ended
        ? h(
            "details",
            { class: "cl-live-last-round", testid: "live-last-round" },
            h("summary", { text: "The last round's final leaderboard" }),
            resultsView(round.question, round.results, { final: true }),
          )
        : null,
    );
  }

  // -- a round running: controls and the presenter view ---------------------------------

  buildControls() {
    const next = h("button", {
      type: "button",
      class: "cl-w-button cl-w-primary",
      testid: "live-next",
      onclick: () => {
        const message = { type: "next" };
        const seconds = Number(countdown.value);
        if (countdown.value.trim() && Number.isFinite(seconds)) {
          message.countdown = Math.round(seconds);
        }
        this.act(message);
      },
    });
    const close = h("button", {
      type: "button",
      class: "cl-w-button",
      testid: "live-close",
      text: "Close now",
      onclick: () => this.act({ type: "close" }),
    });
    const end = h("button", {
      type: "button",
      class: "cl-w-button",
      testid: "live-end",
      text: "End round",
      onclick: () => this.act({ type: "end" }),
    });
    const countdown = h("input", {
      type: "number",
      testid: "live-next-countdown",
      min: "5",
      max: "300",
      step: "1",
    });
    const node = h(
      "div",
      { class: "cl-live-controls", role: "group", "aria-label": "Host controls" },
      next,
      close,
      end,
      labelled("Seconds for the next question", countdown),
    );
    return { node, next, close, end, countdown };
  }

  updateControls(round) {
    const { next, close, end, countdown } = this.controls;
    const { phase, session } = round;
    const more = session.question + 1 < session.question_count;
    next.disabled = round.busy || phase === "open" || !more;
    close.disabled = round.busy || phase !== "open";
    end.disabled = round.busy;
    countdown.placeholder = String(session.options?.countdown ?? "");
    const label =
      round.pending === "next"
        ? "Opening…"
        : phase === "lobby"
          ? "Show the first question"
          : more
            ? "Next question"
            : "No more questions";
    setText(next, label);
    setText(close, round.pending === "close" ? "Closing…" : "Close now");
    setText(end, round.pending === "end" ? "Ending…" : "End round");
  }

  updateStage(round) {
    const { phase, session } = round;
    const signature = JSON.stringify([
      session.id,
      phase,
      session.question,
      session.players,
      Boolean(round.question),
      round.results,
    ]);
    const players = h("p", {
      class: "cl-live-players",
      testid: "live-players",
      text: `${plural(Number(session.players) || 0, "player", "players")} joined`,
    });
    let body;
    if (phase === "lobby") {
      body = [
        h("p", {
          class: "cl-live-wait",
          text: "Waiting for learners to join from the quiz in their notebooks.",
        }),
        players,
      ];
    } else if (!round.question) {
      body = [h("p", { class: "cl-live-wait", text: "Loading the question…" })];
    } else if (phase === "open") {
      body = [presenterQuestion(round.question), players];
    } else {
      body = [
        presenterQuestion(round.question),
        round.results
          ? resultsView(round.question, round.results)
          : h("p", { class: "cl-w-hint", text: "Results are on their way…" }),
      ];
    }
    setContent(this.stage, signature, body);
  }

  dispose() {}
}
