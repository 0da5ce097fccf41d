// What everyone sees once a live question has closed: the correct answer, how the room
// answered (bars with counts), the top of the round's leaderboard and team scores.
// Built from the service's `results` (a LiveView's, or a `question_closed` frame's,
// which has the same counts but no choice texts and no "me"), never computed here.

import { rankTable } from "./board.js";
import { formatNumber, h, plural } from "./dom.js";
import { renderInline, renderMarkdown } from "./markdown.js";
import { correctAnswerView } from "./questions.js";

function isCorrectChoice(correct, id) {
  return Array.isArray(correct) ? correct.includes(id) : correct === id;
}

/** The rows of the distribution: one per choice, or right / partly / wrong for others. */
function distributionRows(question, results) {
  const dist = results.distribution ?? {};
  if (Array.isArray(dist.choices)) {
    // Frames carry counts by id only: the texts come from the question on screen.
    const texts = new Map((question?.choices ?? []).map((c) => [c.id, c.text]));
    return dist.choices.map((choice) => ({
      key: choice.id,
      label: texts.get(choice.id) ?? choice.text ?? String(choice.id),
      count: Number(choice.count) || 0,
      correct: isCorrectChoice(results.correct_answer, choice.id),
    }));
  }
  const rows = [{ key: "correct", label: "Right", count: Number(dist.correct) || 0, correct: true }];
  if (dist.partial) rows.push({ key: "partial", label: "Partly right", count: dist.partial });
  rows.push({ key: "incorrect", label: "Wrong", count: Number(dist.incorrect) || 0 });
  return rows;
}

/**
 * Bars with their counts. Each bar's text says it all for a screen reader ("pandas,
 * correct answer: 3 of 5 answers, 60 %"); the drawn bar itself is hidden from it.
 */
export function distributionView(question, results) {
  const dist = results.distribution ?? {};
  const answered = Number(dist.answered) || 0;
  const rows = distributionRows(question, results);
  if (typeof dist.no_answer === "number" && dist.no_answer > 0) {
    rows.push({ key: "no_answer", label: "No answer", count: dist.no_answer, muted: true });
  }
  const widest = Math.max(1, ...rows.map((row) => row.count));
  const caption = `How the room answered: ${plural(answered, "answer", "answers")}`;
  return h(
    "figure",
    { class: "cl-live-dist", testid: "live-distribution" },
    h("figcaption", { class: "cl-w-label", text: caption }),
    h(
      "ul",
      { class: "cl-live-bars" },
      rows.map((row) => {
        const share = answered && !row.muted ? Math.round((row.count / answered) * 100) : null;
        const spoken =
          `: ${row.count} of ${plural(answered, "answer", "answers")}` +
          (share === null ? "" : `, ${share} %`);
        return h(
          "li",
          {
            class: `cl-live-bar${row.correct ? " cl-live-bar-correct" : ""}${row.muted ? " cl-live-bar-muted" : ""}`,
            testid: "live-bar",
            "data-choice": row.key,
            "data-count": String(row.count),
            "data-correct": row.correct ? "true" : null,
          },
          h(
            "span",
            { class: "cl-live-bar-label" },
            renderInline(row.label),
            row.correct ? h("span", { class: "cl-live-bar-mark", text: " ✓ correct answer" }) : null,
            h("span", { class: "cl-w-sr-only", text: spoken }),
          ),
          h(
            "span",
            { class: "cl-live-bar-track", "aria-hidden": "true" },
            h("span", {
              class: "cl-live-bar-fill",
              style: `width: ${((row.count / widest) * 100).toFixed(1)}%`,
            }),
          ),
          h("span", {
            class: "cl-live-bar-count",
            "aria-hidden": "true",
            text: share === null ? formatNumber(row.count) : `${row.count} · ${share} %`,
          }),
        );
      }),
    ),
  );
}

/** The correct answer and, where the service sent one (LiveView only), the explanation. */
export function solutionView(question, results) {
  if (!question || !("correct_answer" in results)) return null;
  return h(
    "div",
    { class: "cl-live-solution" },
    h(
      "div",
      { testid: "live-correct-answer" },
      h("p", { class: "cl-w-label", text: "Correct answer" }),
      correctAnswerView(question, results.correct_answer),
    ),
    results.explanation
      ? h(
          "div",
          { testid: "live-explanation" },
          h("p", { class: "cl-w-label", text: "Explanation" }),
          renderMarkdown(results.explanation),
        )
      : null,
  );
}

/** The round's leaderboard: my place (learners), the top rows, and "around you". */
export function liveBoardView(board, { title = "Leaderboard", final = false } = {}) {
  const top = Array.isArray(board?.top) ? board.top : [];
  const near = Array.isArray(board?.near_me) ? board.near_me : [];
  const me = board?.me ?? null;
  const nodes = [h("h4", { class: "cl-live-heading", text: title })];
  if (me) {
    const what = final ? "You finished" : "You are";
    nodes.push(
      h("p", {
        class: "cl-lb-me-summary",
        testid: "live-my-rank",
        text:
          `${what} number ${formatNumber(me.rank)} of ${formatNumber(board.total)}, ` +
          `with ${plural(me.score, "point", "points")}.`,
      }),
    );
  }
  if (!top.length) {
    nodes.push(h("p", { class: "cl-lb-empty", text: "No one has joined this round." }));
  } else {
    nodes.push(
      rankTable(top, {
        caption: `Top ${top.length}`,
        testid: "live-board",
        rowTestid: "live-board-row",
      }),
    );
  }
  if (me && !top.some((entry) => entry.me) && near.length) {
    nodes.push(
      rankTable(near, { caption: "Around you", testid: "live-near-me", rowTestid: "live-board-row" }),
    );
  }
  if (board?.names === "alias") {
    nodes.push(
      h("p", {
        class: "cl-w-hint",
        text: "Names are aliases: the course shows no real names on its leaderboards.",
      }),
    );
  }
  return h("div", { class: "cl-live-board" }, nodes);
}

/** Team scores (the mean of each team's players), my team marked. */
export function teamsView(teams, myTeam) {
  if (!Array.isArray(teams) || !teams.length) return null;
  return h(
    "div",
    { class: "cl-live-teams" },
    h("h4", { class: "cl-live-heading", text: "Teams" }),
    h(
      "table",
      { class: "cl-lb-table", testid: "live-teams" },
      h("caption", { text: "Team score: the mean of its players' points" }),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Rank", "Team", "Score", "Players"].map((text) => h("th", { scope: "col", text })),
        ),
      ),
      h(
        "tbody",
        {},
        teams.map((team) =>
          h(
            "tr",
            {
              class: team.team === myTeam ? "cl-lb-row cl-lb-me" : "cl-lb-row",
              testid: "live-team-row",
              "data-team": String(team.team),
              "data-rank": String(team.rank),
              "aria-current": team.team === myTeam ? "true" : null,
            },
            h("td", { text: formatNumber(team.rank) }),
            h(
              "th",
              { scope: "row" },
              String(team.team),
              team.team === myTeam ? h("span", { class: "cl-lb-you", text: " (your team)" }) : null,
            ),
            h("td", { text: formatNumber(team.score) }),
            h("td", { text: formatNumber(team.members) }),
          ),
        ),
      ),
    ),
  );
}

/** Correct answer, bars, board and teams, in the order they are read out. */
export function resultsView(question, results, { myTeam = null, final = false } = {}) {
  return h(
    "div",
    { class: "cl-live-results", testid: "live-results" },
    final ? null : solutionView(question, results),
    final ? null : distributionView(question, results),
    liveBoardView(results.leaderboard, {
      title: final ? "Final leaderboard" : "Leaderboard",
      final,
    }),
    teamsView(results.teams, myTeam),
  );
}
