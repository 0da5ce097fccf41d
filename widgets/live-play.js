// A learner's side of a live round: join, wait in the lobby, answer the open question
// once, then see how it went (verdict, points, streak bonus) with the room's results.
//
// `update(round)` takes the round as LiveRound derived it (the service's LiveView, with
// a newer event frame's state on top). The answer form is built once per question and
// then only updated, so a half-typed answer survives refetches.

import { formatNumber, h, plural, setContent, setText, submitOnEnter } from "./dom.js";
import { resultsView } from "./live-results.js";
import { renderMarkdown } from "./markdown.js";
import { answerControl } from "./questions.js";

/** What my closed answer earned, as the service scored it (my_answer after close). */
function verdictParts(mine, stale) {
  // A close frame came before the kernel's refetch: my verdict is on its way.
  if (stale) return { state: "pending", text: "Answers closed. Checking yours…" };
  if (!mine?.answered) return { state: "none", text: "No answer this time." };
  if (!("correct" in mine)) return { state: "pending", text: "Answers closed. Checking yours…" };
  if (mine.correct === true) return { state: "true", text: "Correct!" };
  if (Number(mine.points) > 0) return { state: "partial", text: "Partly right." };
  return { state: "false", text: "Not correct." };
}

export class PlayerView {
  constructor(act) {
    this.act = act; // (message) => sent?
    this.node = h("div", { class: "cl-live-body" });
    this.screen = null;
    this.form = null;
    this.problem = "";
  }

  update(round) {
    const screen = this.screenOf(round);
    if (screen !== this.screen) {
      this.screen = screen;
      this.form = null;
      this.problem = "";
      this.node.replaceChildren(...this.build(round));
    }
    this.refresh(round);
  }

  screenOf(round) {
    const { session, phase } = round;
    if (!round.joined) return `join:${session.id}`;
    if (phase === "open" && !round.question) return `opening:${session.id}:${session.question}`;
    return `${phase}:${session.id}:${session.question}`;
  }

  build(round) {
    const { phase } = round;
    if (!round.joined) return this.buildJoin(round);
    if (phase === "lobby") {
      return [
        h("p", {
          class: "cl-live-wait",
          testid: "live-lobby",
          text: "You're in. Waiting for the instructor to show the first question…",
        }),
      ];
    }
    if (phase === "open" && !round.question) {
      return [
        h("p", {
          class: "cl-live-wait",
          testid: "live-opening",
          text: `Question ${round.session.question + 1} is opening…`,
        }),
      ];
    }
    if (phase === "open") return this.buildQuestion(round);
    if (phase === "closed") {
      this.outcome = h("div", { class: "cl-live-outcome" });
      return [this.promptView(round), this.outcome];
    }
    this.outcome = h("div", { class: "cl-live-outcome" });
    return [
      h("p", { class: "cl-live-wait", testid: "live-ended", text: "The live round has ended." }),
      this.outcome,
    ];
  }

  buildJoin(round) {
    const button = h("button", {
      type: "button",
      class: "cl-w-button cl-w-primary",
      testid: "live-join",
      text: "Join live round",
      onclick: () => this.act({ type: "join" }),
    });
    this.joinButton = button;
    const where =
      round.phase === "lobby"
        ? "waiting to start"
        : `question ${round.session.question + 1} of ${round.session.question_count}`;
    return [
      h(
        "div",
        { class: "cl-live-banner", testid: "live-join-banner" },
        h("p", { text: `A live round of this quiz is running (${where}).` }),
        button,
      ),
    ];
  }

  promptView(round) {
    if (!round.question) return null;
    return h(
      "div",
      { class: "cl-quiz-prompt cl-live-prompt", testid: "live-question-prompt" },
      renderMarkdown(round.question.prompt),
    );
  }

  buildQuestion(round) {
    const question = round.question;
    const control = answerControl(question, undefined, "live-question");
    const promptId = `cl-live-prompt-${round.session.id}-${round.session.question}`;
    const submit = h("button", {
      type: "submit",
      class: "cl-w-button cl-w-primary",
      testid: "live-submit",
      text: "Submit answer",
    });
    const received = h("p", {
      class: "cl-live-received",
      testid: "live-received",
      role: "status",
      "aria-live": "polite",
    });
    const problem = h("div", { class: "cl-w-problem", testid: "live-answer-error", role: "alert" });
    const form = h(
      "form",
      {
        class: "cl-quiz-question cl-live-question",
        testid: "live-question",
        "data-question-type": question.type,
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          this.submit(round.question.id);
        },
        onkeydown: submitOnEnter,
        oninput: () => {
          if (this.problem) {
            this.problem = "";
            this.refresh(this.round);
          }
        },
      },
      h(
        "fieldset",
        { "aria-describedby": promptId },
        h(
          "legend",
          {},
          `Question ${round.session.question + 1} of ${round.session.question_count}`,
          h("span", {
            class: "cl-quiz-points",
            text: ` · up to ${formatNumber(1000 * (Number(question.points) || 1))} points`,
          }),
        ),
        h(
          "div",
          { class: "cl-quiz-prompt", id: promptId, testid: "live-question-prompt" },
          renderMarkdown(question.prompt),
        ),
        control.node,
      ),
      h("div", { class: "cl-quiz-actions" }, submit),
      problem,
      received,
    );
    this.form = { form, control, submit, received, problem, disabled: null };
    return [form];
  }

  submit(questionId) {
    const round = this.round;
    if (!this.form || !round || this.answered(round) || round.busy) return;
    const answer = this.form.control.read();
    if (!answer.ok) {
      this.problem = answer.message;
      this.refresh(round);
      return;
    }
    this.problem = "";
    if (!this.act({ type: "answer_live", question: questionId, answer: answer.value })) {
      this.problem = "No running kernel: start it and run this cell again.";
    }
    this.refresh(this.round); // act() has updated the round (now in flight)
  }

  answered(round) {
    return Boolean(round.myAnswer?.answered || round.ack?.received);
  }

  refresh(round) {
    this.round = round;
    if (this.joinButton && !round.joined) {
      this.joinButton.disabled = round.busy;
      setText(this.joinButton, round.pending === "join" ? "Joining…" : "Join live round");
    }
    if (this.form && round.phase === "open") {
      const answered = this.answered(round);
      const locked = answered;
      const parts = this.form;
      if (parts.disabled !== locked) {
        parts.disabled = locked;
        parts.control.setDisabled(locked);
      }
      parts.submit.disabled = locked || round.busy;
      parts.submit.hidden = answered;
      setText(parts.submit, round.pending === "answer_live" ? "Sending…" : "Submit answer");
      setText(
        parts.received,
        answered ? "Answer received. You will see how it went when the question closes." : "",
      );
      const error = round.error?.during === "answer_live" ? round.error.message : "";
      const problem = this.problem || error;
      setText(parts.problem, problem);
      parts.problem.hidden = !problem;
    }
    if (this.outcome && (round.phase === "closed" || round.phase === "ended")) {
      this.showOutcome(round);
    }
  }

  showOutcome(round) {
    const final = round.phase === "ended";
    const signature = JSON.stringify([
      round.phase,
      round.stale,
      round.myAnswer,
      round.me,
      round.results,
      Boolean(round.question),
    ]);
    const mine = final ? null : verdictParts(round.myAnswer, round.stale);
    setContent(
      this.outcome,
      signature,
      mine
        ? h(
            "div",
            {
              class: "cl-live-verdict",
              testid: "live-verdict",
              "data-correct": mine.state,
              role: "status",
            },
            h("p", { class: "cl-live-verdict-text", text: mine.text }),
            this.pointsView(round.myAnswer),
          )
        : null,
      typeof round.me?.score === "number"
        ? h("p", {
            class: "cl-live-total",
            testid: "live-total",
            text: `Your total: ${plural(round.me.score, "point", "points")}` +
              (round.me.team ? ` · team ${round.me.team}` : ""),
          })
        : null,
      round.results
        ? resultsView(round.question, round.results, { myTeam: round.me?.team ?? null, final })
        : h("p", {
            class: "cl-w-hint",
            text: final ? "The round ended before any question closed." : "Results are on their way…",
          }),
      final
        ? null
        : h("p", { class: "cl-w-hint", text: "Waiting for the instructor's next question…" }),
    );
  }

  pointsView(mine) {
    if (!mine?.answered || !("points" in mine)) return null;
    const bonus = Number(mine.bonus) || 0;
    return h(
      "p",
      { class: "cl-live-points" },
      h("span", { testid: "live-points", text: `+${formatNumber(Number(mine.points) || 0)} points` }),
      bonus
        ? h("span", {
            testid: "live-bonus",
            text: ` · +${formatNumber(bonus)} streak bonus (${plural(mine.streak, "right answer", "right answers")} in a row)`,
          })
        : Number(mine.streak) > 1
          ? h("span", { text: ` · ${formatNumber(mine.streak)} in a row` })
          : null,
    );
  }

  dispose() {}
}
