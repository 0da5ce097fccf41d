// The Leaderboard's request made from the browser, as the person, in a shared server
// (see person.js): the same steps and state as the kernel's cohortlab.widgets.Leaderboard,
// so the board is the person's own view (their row, their cohort, their name setting).

import { PersonActions, pick, segment } from "./person.js";

const BOARD_KEYS = ["scope", "top", "near_me", "me", "total", "names"];

/** The synced-state keys a personal Leaderboard starts with. */
export const BOARD_INITIAL = { board: null };

export class BoardActions extends PersonActions {
  /** The service path and query for this board (docs/quizzes.md). */
  path() {
    const m = this.model;
    const course = `courses/${segment(m.get("course"))}`;
    const quiz = m.get("quiz_id");
    const path = quiz ? `${course}/quizzes/${segment(quiz)}/leaderboard` : `${course}/leaderboard`;
    const query = new URLSearchParams({ limit: String(m.get("top") || 10) });
    if (m.get("cohort")) {
      query.set("scope", "cohort");
      query.set("cohort", m.get("cohort"));
    }
    return `${path}?${query}`;
  }

  async refresh() {
    const m = this.model;
    if (m.get("status") !== "ready") m.set("status", "loading");
    const quiz = m.get("quiz_id");
    const example = (c) => `Leaderboard('${quiz}', course='${c}')`;
    if (quiz && !(await this.resolveCourse(quiz, example))) return;
    const during = m.get("status") === "ready" ? "refresh" : "load";
    const board = await this.call(during, async () =>
      pick(await this.request(this.path()), ...BOARD_KEYS),
    );
    if (board === null) return;
    m.update({ board, status: "ready", error: null });
  }
}
