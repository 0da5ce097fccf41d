// The Leaderboard widget's view (anywidget ESM; its Python class is
// cohortlab.widgets.Leaderboard). It renders the service's Leaderboard answer as it came:
// the top rows, then "around you" when the learner is not among them, with the
// learner's own row marked for sight and for screen readers. In a shared server the
// board is fetched from this browser, as the person signed in to it (person.js).

import {
  errorTitle,
  errorView,
  formatNumber,
  h,
  loadingView,
  plural,
  sendToKernel,
  setText,
} from "./dom.js";
import { rankTable } from "./board.js";
import { liveRefresh } from "./live.js";
import { bridgeEvents, renderView } from "./person.js";
import { BOARD_INITIAL, BoardActions } from "./person-board.js";

const SYNCED = ["status", "error", "busy", "board", "course"];

class LeaderboardView {
  constructor(model, el) {
    this.model = model;
    this.root = h("section", { class: "cl-w cl-lb", testid: "leaderboard", "aria-busy": "true" });
    el.replaceChildren(this.root);
    this.mode = null;
    this.signature = null;
    this.loading = null;
    this.onChange = () => this.update();
    for (const name of SYNCED) model.on(`change:${name}`, this.onChange);
    this.live = liveRefresh(model, this.root, (message) => sendToKernel(model, message), {
      // The service tells the whole course {"type": "quiz", "action": "scores"} (at most
      // about once a second per quiz) when scores change; "quiz": null concerns every board
      // of the course (names, opt-ins).
      matches: (frame) =>
        (frame.course === undefined || frame.course === model.get("course")) &&
        (!model.get("quiz_id") || frame.quiz == null || frame.quiz === model.get("quiz_id")),
      events: model.personal ? bridgeEvents(model) : undefined,
    });
    this.update();
  }

  dispose() {
    this.live.dispose();
    this.loading?.dispose();
    for (const name of SYNCED) this.model.off(`change:${name}`, this.onChange);
  }

  update() {
    const board = this.model.get("board");
    const error = this.model.get("error");
    this.root.setAttribute("aria-busy", String(Boolean(this.model.get("busy")) || !board));
    const mode = board ? "board" : this.model.get("status") === "error" ? "error" : "loading";
    const signature = JSON.stringify([mode, board, error, this.model.get("course")]);
    if (mode === this.mode && (mode === "loading" || signature === this.signature)) return;
    this.loading?.dispose();
    this.loading = null;
    this.mode = mode;
    this.signature = signature;
    if (mode === "loading") {
      this.loading = loadingView(
        "The leaderboard",
        "leaderboard-loading",
        Boolean(this.model.personal),
      );
      this.root.replaceChildren(this.loading.node);
    } else if (mode === "error") {
      this.root.replaceChildren(
        errorView(error, "leaderboard-error", () => this.live.refreshNow()),
      );
    } else {
      this.root.replaceChildren(...this.boardView(board, error));
    }
  }

  boardView(board, error) {
    const top = Array.isArray(board.top) ? board.top : [];
    const near = Array.isArray(board.near_me) ? board.near_me : [];
    const me = board.me ?? null;
    const meInTop = top.some((entry) => entry.me);
    const nodes = [
      h(
        "header",
        { class: "cl-lb-header" },
        h("h3", { class: "cl-w-title", testid: "leaderboard-title", text: "Leaderboard" }),
        h("p", { class: "cl-w-hint", testid: "leaderboard-scope", text: this.scopeText(board) }),
      ),
    ];
    const problem = error ? `Could not refresh. ${errorTitle(error)}: ${error.message}` : "";
    if (problem) {
      nodes.push(
        h("div", {
          class: "cl-w-problem",
          testid: "leaderboard-refresh-error",
          role: "alert",
          text: problem,
        }),
      );
    }
    if (!top.length) {
      nodes.push(
        h("p", { class: "cl-lb-empty", testid: "leaderboard-empty", text: "No scores yet." }),
      );
      return nodes;
    }
    const summary = h("p", { class: "cl-lb-me-summary", testid: "leaderboard-me" });
    setText(
      summary,
      me
        ? `You are number ${formatNumber(me.rank)} of ${formatNumber(board.total)}, ` +
            `with ${plural(me.score, "point", "points")}.`
        : "You are not on this board yet.",
    );
    nodes.push(summary, table(top, `Top ${top.length}`, "leaderboard-top"));
    if (me && !meInTop && near.length) {
      nodes.push(table(near, "Around you", "leaderboard-near-me"));
    }
    if (board.names === "alias") {
      nodes.push(
        h("p", {
          class: "cl-w-hint",
          testid: "leaderboard-alias-note",
          text: "Names are aliases: the course shows no real names on its leaderboards.",
        }),
      );
    }
    return nodes;
  }

  scopeText(board) {
    const quiz = this.model.get("quiz_id");
    const cohort = this.model.get("cohort");
    const course = this.model.get("course");
    const parts = [quiz ? `Quiz ${quiz}` : "All quizzes"];
    if (course) parts.push(`course ${course}`);
    if (cohort || board.scope === "cohort") parts.push(`cohort ${cohort}`);
    return `${parts.join(" · ")} · ${formatNumber(board.total)} ranked`;
  }
}

function table(entries, caption, testid) {
  return rankTable(entries, { caption, testid, rowTestid: "leaderboard-row" });
}

export default {
  render({ model, el }) {
    // In a shared server: this browser's own model, never the shared one (person.js).
    const keys = ["quiz_id", "course", "cohort", "top"];
    return renderView(model, el, LeaderboardView, keys, BOARD_INITIAL, BoardActions);
  },
};
