// A ranking as a table (rank, name, score), the viewer's own row marked for sight and for
// screen readers. Shared by the Leaderboard widget and the live round's boards, so every
// board in CohortLab reads the same way.

import { formatNumber, h } from "./dom.js";

/**
 * `entries` are the service's leaderboard entries (`rank`, `name`, `score`, `me`), in
 * its order; `testid` names the table and `rowTestid` each row (with `data-rank`, and
 * `data-me`/`aria-current` on mine).
 */
export function rankTable(entries, { caption, testid, rowTestid, nameLabel = "Name" }) {
  return h(
    "table",
    { class: "cl-lb-table", testid },
    h("caption", { text: caption }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Rank", nameLabel, "Score"].map((text) => h("th", { scope: "col", text })),
      ),
    ),
    h(
      "tbody",
      {},
      entries.map((entry) =>
        h(
          "tr",
          {
            class: entry.me ? "cl-lb-row cl-lb-me" : "cl-lb-row",
            testid: rowTestid,
            "data-rank": String(entry.rank),
            "data-me": entry.me ? "true" : null,
            "aria-current": entry.me ? "true" : null,
          },
          h("td", { text: formatNumber(entry.rank) }),
          h(
            "th",
            { scope: "row" },
            String(entry.name),
            entry.me ? h("span", { class: "cl-lb-you", text: " (you)" }) : null,
          ),
          h("td", { text: formatNumber(entry.score) }),
        ),
      ),
    ),
  );
}
