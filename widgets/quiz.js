// The Quiz widget's view (anywidget ESM; its Python class is cohortlab.widgets.Quiz).
//
// The kernel does every service call; this view renders the synced state (what the
// service sent this learner) and sends the kernel two messages: {type: "refresh"} and
// {type: "answer", question, answer}. In a shared server (a cohort workspace) the same
// view renders a model of this browser's own, whose messages are carried out here, as
// the person signed in to the browser (person.js, person-quiz.js). The questions' DOM
// is built once per quiz version and then only updated, so a half-typed answer or the
// focus survives live refreshes.
// The quiz's live rounds (join, play, host) are a panel of their own: live-round.js.

import {
  errorTitle,
  errorView,
  formatNumber,
  h,
  loadingView,
  parseTime,
  plural,
  sendToKernel,
  setContent,
  setText,
  submitOnEnter,
  timeElement,
  uid,
} from "./dom.js";
import { liveRefresh } from "./live.js";
import { LiveRound } from "./live-round.js";
import { renderMarkdown } from "./markdown.js";
import { bridgeEvents, renderView } from "./person.js";
import { QUIZ_INITIAL, QuizActions } from "./person-quiz.js";
import { answerControl, correctAnswerView } from "./questions.js";

const SYNCED = [
  "status",
  "error",
  "busy",
  "quiz",
  "question_states",
  "score",
  "max_score",
  "pending_question",
  "previews",
  "live",
  "host",
];
// Re-enable submitting if the kernel never answers (it died, or was restarted).
const SAFETY_MS = 60000;
const MAX_TIMER_MS = 2 ** 31 - 1;

class QuizView {
  constructor(model, el) {
    this.model = model;
    this.root = h("section", { class: "cl-w cl-quiz", testid: "quiz", "aria-busy": "true" });
    el.replaceChildren(this.root);
    this.mode = null;
    this.signature = null;
    this.questions = new Map();
    this.problems = new Map(); // question id -> a message found before sending
    this.localPending = null;
    this.sawPending = false;
    this.safety = 0;
    this.transition = 0;
    this.loading = null;
    this.questionList = null;
    // Before this view's own listeners, so the round is derived when update() asks it.
    this.liveRound = new LiveRound(model, (message) => sendToKernel(model, message));
    // A round being played or hosted is what to look at; the self-paced questions wait.
    this.liveRound.onLayout = () => {
      if (this.questionList) this.questionList.hidden = this.liveRound.takesOver();
    };

    this.onChange = () => this.update();
    this.onPending = () => this.trackPending();
    this.onError = () => {
      if (this.model.get("error")) this.clearPending();
    };
    for (const name of SYNCED) model.on(`change:${name}`, this.onChange);
    model.on("change:pending_question", this.onPending);
    model.on("change:error", this.onError);
    this.live = liveRefresh(model, this.root, (message) => sendToKernel(model, message), {
      // "scores" events tell the course that someone's score changed: boards care, this
      // learner's own quiz does not (and a whole class answering would refetch it).
      // Live frames go to the round, which asks for only what the frame lacks.
      matches: (frame) => {
        if (frame.quiz !== model.get("quiz_id")) return false;
        if (frame.course !== undefined && frame.course !== model.get("course")) return false;
        if (frame.type === "live") return this.liveRound.onFrame(frame) ?? false;
        return frame.action !== "scores";
      },
      poll: () => this.liveRound.pollPlan(),
      events: model.personal ? bridgeEvents(model) : undefined,
    });
    this.liveRound.connect(this.live.request);
    this.update();
  }

  dispose() {
    this.live.dispose();
    this.liveRound.dispose();
    this.loading?.dispose();
    clearTimeout(this.safety);
    clearTimeout(this.transition);
    for (const name of SYNCED) this.model.off(`change:${name}`, this.onChange);
    this.model.off("change:pending_question", this.onPending);
    this.model.off("change:error", this.onError);
  }

  // -- sending answers --------------------------------------------------------------

  trackPending() {
    const pending = this.model.get("pending_question");
    if (this.localPending !== null && pending === this.localPending) this.sawPending = true;
    else if (!pending && this.sawPending) this.clearPending();
  }

  clearPending() {
    clearTimeout(this.safety);
    this.localPending = null;
    this.sawPending = false;
    this.update();
  }

  inFlight() {
    return Boolean(this.model.get("busy")) || this.localPending !== null;
  }

  submit(questionId) {
    const parts = this.questions.get(questionId);
    const quiz = this.model.get("quiz");
    const state = this.model.get("question_states")?.[questionId];
    if (!parts || !quiz?.open || state?.done || this.inFlight()) return;
    const answer = parts.control.read();
    if (!answer.ok) {
      this.problems.set(questionId, answer.message);
      this.update();
      return;
    }
    this.problems.delete(questionId);
    this.localPending = questionId;
    this.sawPending = false;
    clearTimeout(this.safety);
    this.safety = setTimeout(() => this.clearPending(), SAFETY_MS);
    const message = { type: "answer", question: questionId, answer: answer.value };
    if (!sendToKernel(this.model, message)) {
      this.problems.set(questionId, "No running kernel: start it and run this cell again.");
      this.clearPending();
      return;
    }
    this.update();
  }

  // -- rendering ----------------------------------------------------------------------

  update() {
    const quiz = this.model.get("quiz");
    this.root.setAttribute("aria-busy", String(this.inFlight() || !quiz));
    if (quiz) {
      this.showQuiz(quiz);
      this.liveRound.update();
    }
    else if (this.model.get("status") === "error") this.showError();
    else this.showLoading();
  }

  setMode(mode, ...children) {
    this.loading?.dispose();
    this.loading = null;
    this.mode = mode;
    this.signature = null;
    this.root.replaceChildren(...children);
  }

  showLoading() {
    if (this.mode === "loading") return;
    const loading = loadingView("The quiz", "quiz-loading", Boolean(this.model.personal));
    this.setMode("loading", loading.node);
    this.loading = loading;
  }

  showError() {
    const error = this.model.get("error");
    const signature = JSON.stringify(error);
    if (this.mode === "error" && this.errorSignature === signature) return;
    this.setMode("error", errorView(error, "quiz-error", () => this.live.refreshNow()));
    this.errorSignature = signature;
  }

  showQuiz(quiz) {
    const signature = JSON.stringify([quiz.id, quiz.questions]);
    if (this.mode !== "quiz" || this.signature !== signature) this.build(quiz);
    this.signature = signature;
    this.updateHeader(quiz);
    const states = this.model.get("question_states") ?? {};
    for (const question of quiz.questions) {
      this.updateQuestion(quiz, question, states[question.id], this.questions.get(question.id));
    }
    this.scheduleTransition(quiz);
  }

  build(quiz) {
    const titleId = uid("cl-quiz-title");
    this.header = {
      title: h("h3", { class: "cl-w-title", id: titleId, testid: "quiz-title" }),
      availability: h("p", { class: "cl-quiz-availability", testid: "quiz-availability" }),
      rules: h("p", { class: "cl-w-hint", testid: "quiz-rules" }),
      score: h("p", { class: "cl-quiz-score", testid: "quiz-score" }),
      problem: h("div", { class: "cl-w-problem", testid: "quiz-refresh-error", role: "alert" }),
    };
    const states = this.model.get("question_states") ?? {};
    this.questions = new Map();
    const items = quiz.questions.map((question, index) => {
      const parts = this.buildQuestion(question, index, quiz.questions.length, states[question.id]);
      this.questions.set(question.id, parts);
      return h("li", {}, parts.form);
    });
    this.questionList = h("ol", { class: "cl-quiz-questions", testid: "quiz-questions" }, items);
    this.setMode(
      "quiz",
      h(
        "header",
        { class: "cl-quiz-header" },
        this.header.title,
        this.header.availability,
        this.header.rules,
        this.header.score,
      ),
      this.header.problem,
      this.liveRound.node,
      this.questionList,
    );
    this.root.setAttribute("aria-labelledby", titleId);
  }

  buildQuestion(question, index, count, state) {
    const testid = `quiz-question-${question.id}`;
    const promptId = uid("cl-quiz-prompt");
    const control = answerControl(question, state?.last_answer, testid);
    const parts = {
      control,
      disabled: null,
      submit: h("button", {
        type: "submit",
        class: "cl-w-button cl-w-primary",
        testid: `${testid}-submit`,
        text: "Submit answer",
      }),
      attempts: h("span", { class: "cl-quiz-attempts", testid: `${testid}-attempts` }),
      problem: h("div", { class: "cl-w-problem", testid: `${testid}-error`, role: "alert" }),
      feedback: h("div", {
        class: "cl-quiz-feedback",
        testid: `${testid}-feedback`,
        role: "status",
        "aria-live": "polite",
      }),
      solution: h("div", { class: "cl-quiz-solution", testid: `${testid}-solution`, hidden: true }),
    };
    parts.form = h(
      "form",
      {
        class: "cl-quiz-question",
        testid,
        "data-question-type": question.type,
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          this.submit(question.id);
        },
        onkeydown: submitOnEnter,
        // "Choose an answer first" goes away once there is one.
        oninput: () => {
          if (this.problems.delete(question.id)) this.update();
        },
      },
      h(
        "fieldset",
        { "aria-describedby": promptId },
        h(
          "legend",
          {},
          `Question ${index + 1} of ${count}`,
          h("span", {
            class: "cl-quiz-points",
            text: ` · ${plural(question.points, "point", "points")}`,
          }),
        ),
        h(
          "div",
          { class: "cl-quiz-prompt", id: promptId, testid: `${testid}-prompt` },
          renderMarkdown(question.prompt),
        ),
        control.node,
      ),
      h("div", { class: "cl-quiz-actions" }, parts.submit, parts.attempts),
      parts.problem,
      parts.feedback,
      parts.solution,
    );
    return parts;
  }

  updateHeader(quiz) {
    const { title, availability, rules, score, problem } = this.header;
    setText(title, quiz.title);
    const opens = parseTime(quiz.opens_at);
    const closes = parseTime(quiz.closes_at);
    // The service's own status where it sends one; else the flag and this clock.
    const notYet = opens !== null && opens > Date.now();
    const status = quiz.status ?? (quiz.open ? "open" : notYet ? "not_open" : "closed");
    let state = "open";
    let parts = ["Open."];
    if (!quiz.open && status === "not_open") {
      state = "not-open";
      parts = ["Not open yet: opens ", timeElement(quiz.opens_at), "."];
    } else if (!quiz.open) {
      state = "closed";
      parts = closes !== null ? ["Closed since ", timeElement(quiz.closes_at), "."] : ["Closed."];
    } else if (closes !== null) {
      parts = ["Open until ", timeElement(quiz.closes_at), "."];
    }
    this.root.dataset.state = state;
    availability.dataset.state = state;
    setContent(availability, JSON.stringify([state, quiz.opens_at, quiz.closes_at]), parts);

    const attempts = Number(quiz.attempts) || 1;
    const counts = quiz.counting === "last" ? "last" : "best";
    let rule =
      attempts === 1
        ? "One attempt per question."
        : `${attempts} attempts per question; your ${counts} attempt counts.`;
    if (quiz.revealed) rule += " Answers have been revealed.";
    setText(rules, rule);

    const mine = this.model.get("score");
    const max = this.model.get("max_score");
    setText(
      score,
      typeof mine === "number" ? `Your score: ${formatNumber(mine)} of ${formatNumber(max)}` : "",
    );

    const error = this.model.get("error");
    const shown =
      error && (error.during === "load" || error.during === "refresh")
        ? `Could not refresh the quiz. ${errorTitle(error)}: ${error.message}`
        : "";
    setText(problem, shown);
    problem.hidden = !shown;
  }

  updateQuestion(quiz, question, state, parts) {
    const done = Boolean(state?.done);
    const locked = !quiz.open || done;
    if (parts.disabled !== locked) {
      parts.disabled = locked;
      parts.control.setDisabled(locked);
    }
    const pending =
      this.model.get("pending_question") === question.id || this.localPending === question.id;
    parts.submit.disabled = locked || this.inFlight();
    setText(parts.submit, pending ? "Submitting…" : "Submit answer");
    parts.form.dataset.done = String(done);

    let attempts;
    if (!state) attempts = plural(Number(quiz.attempts) || 1, "attempt", "attempts");
    else if (done) attempts = state.attempts_left === 0 ? "No attempts left" : "Finished";
    else attempts = `${plural(state.attempts_left, "attempt", "attempts")} left`;
    setText(parts.attempts, attempts);

    const error = this.model.get("error");
    const problem =
      this.problems.get(question.id) ??
      (error?.during === "answer" && error.question === question.id
        ? `${errorTitle(error)}: ${error.message}`
        : "");
    setText(parts.problem, problem);
    parts.problem.hidden = !problem;

    // A staff preview (graded, not recorded) is shown from its Result instead.
    const preview = this.model.get("previews")?.[question.id];
    this.updateFeedback(quiz, question, preview ?? state, parts.feedback, Boolean(preview));
    this.updateSolution(question, preview ?? state, parts.solution);
  }

  updateFeedback(quiz, question, result, node, preview) {
    if (!preview && !result?.answered) {
      setContent(node, "", []);
      return;
    }
    let verdict = verdictText(result, question, !preview && (Boolean(result.done) || !quiz.open));
    if (preview) verdict = `Preview, not recorded: ${verdict}`;
    node.dataset.correct = String(result.correct);
    const feedback = Array.isArray(result.feedback) ? result.feedback : [];
    setContent(
      node,
      JSON.stringify([verdict, feedback, result.attempts_used, preview]),
      h("p", {
        class: "cl-quiz-verdict",
        testid: `quiz-question-${question.id}-verdict`,
        text: verdict,
      }),
      feedback.length
        ? h(
            "ul",
            { class: "cl-quiz-feedback-items" },
            feedback.map((text) => h("li", {}, renderMarkdown(text))),
          )
        : null,
    );
  }

  updateSolution(question, state, node) {
    const show = Boolean(state?.done) && ("explanation" in state || "correct_answer" in state);
    node.hidden = !show;
    if (!show) {
      setContent(node, "", []);
      return;
    }
    setContent(
      node,
      JSON.stringify([state.correct_answer, state.explanation]),
      "correct_answer" in state
        ? h(
            "div",
            { testid: `quiz-question-${question.id}-correct-answer` },
            h("p", { class: "cl-w-label", text: "Correct answer" }),
            correctAnswerView(question, state.correct_answer),
          )
        : null,
      state.explanation
        ? h(
            "div",
            { testid: `quiz-question-${question.id}-explanation` },
            h("p", { class: "cl-w-label", text: "Explanation" }),
            renderMarkdown(state.explanation),
          )
        : null,
    );
  }

  /** Refetch when the quiz opens or closes while it is on screen. */
  scheduleTransition(quiz) {
    clearTimeout(this.transition);
    const now = Date.now();
    const next = [parseTime(quiz.opens_at), parseTime(quiz.closes_at)]
      .filter((t) => t !== null && t > now)
      .sort((a, b) => a - b)[0];
    if (next === undefined || next - now > MAX_TIMER_MS) return;
    this.transition = setTimeout(() => this.live.refreshNow(), next - now + 1000);
  }
}

/** What a graded answer (QuestionState or Result) means, in a few words. */
function verdictText(result, question, finished) {
  if (result.correct === true) return "Correct.";
  if (result.correct === false && result.score > 0) {
    return (
      `Partly right: ${formatNumber(result.score)} of ` +
      `${plural(question.points, "point", "points")}.`
    );
  }
  if (result.correct === false) return finished ? "Not correct." : "Not quite. Try again.";
  return "Answer recorded.";
}

export default {
  render({ model, el }) {
    // In a shared server: this browser's own model, never the shared one (person.js).
    return renderView(model, el, QuizView, ["quiz_id", "course"], QUIZ_INITIAL, QuizActions);
  },
};
