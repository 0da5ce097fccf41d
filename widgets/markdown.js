// A deliberately small Markdown subset for prompts and choices, built as DOM nodes.
//
// Prompts are Markdown (notebooks/quizzes/README.md). Inside an anywidget there is no
// JupyterLab sanitizing renderer to borrow, and the widget must look the same in VS Code,
// so instead of rendering HTML we build nodes for what quiz prompts use: paragraphs,
// bullet and numbered lists, fenced code, `code`, **bold**, *emphasis* and http(s)
// links. Anything else (raw HTML, images, math) stays visible as plain text.

import { h } from "./dom.js";

const INLINE = new RegExp(
  [
    /(`+)([\s\S]*?[^`])\1(?!`)/.source, // `code` (groups 1, 2)
    /\*\*(?=\S)([\s\S]*?\S)\*\*/.source, // **strong** (3)
    /__(?=\S)([\s\S]*?\S)__/.source, // __strong__ (4)
    /\*(?=\S)([^*]*?\S)\*/.source, // *emphasis* (5)
    /\b_(?=\S)([^_]*?\S)_\b/.source, // _emphasis_ (6)
    /\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/.source, // [text](http...) (7, 8)
  ].join("|"),
  "g",
);

/** Inline Markdown of one line or paragraph, as an array of nodes and strings. */
export function renderInline(text) {
  const out = [];
  let last = 0;
  for (const m of String(text).matchAll(INLINE)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[2] !== undefined) out.push(h("code", { text: m[2].trim() || m[2] }));
    else if (m[3] !== undefined || m[4] !== undefined)
      out.push(h("strong", {}, renderInline(m[3] ?? m[4])));
    else if (m[5] !== undefined || m[6] !== undefined)
      out.push(h("em", {}, renderInline(m[5] ?? m[6])));
    else
      out.push(
        h("a", { href: m[8], target: "_blank", rel: "noopener noreferrer" }, renderInline(m[7])),
      );
    last = m.index + m[0].length;
  }
  if (last < String(text).length) out.push(String(text).slice(last));
  return out;
}

const FENCE = /^\s*(```|~~~)/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;
const HEADING = /^\s*#{1,6}\s+(.*)$/;

/** Block Markdown as a DocumentFragment. */
export function renderMarkdown(source) {
  const fragment = document.createDocumentFragment();
  const lines = String(source ?? "").replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
    } else if (FENCE.test(line)) {
      const fence = line.trim().slice(0, 3);
      const code = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence)) code.push(lines[i++]);
      i += 1;
      fragment.append(h("pre", {}, h("code", { text: code.join("\n") })));
    } else if (BULLET.test(line) || NUMBERED.test(line)) {
      const pattern = BULLET.test(line) ? BULLET : NUMBERED;
      const items = [];
      while (i < lines.length && pattern.test(lines[i])) {
        items.push(h("li", {}, renderInline(lines[i].match(pattern)[1])));
        i += 1;
      }
      fragment.append(h(pattern === BULLET ? "ul" : "ol", {}, items));
    } else if (HEADING.test(line)) {
      fragment.append(h("p", {}, h("strong", {}, renderInline(line.match(HEADING)[1]))));
      i += 1;
    } else {
      const paragraph = [];
      while (
        i < lines.length &&
        lines[i].trim() &&
        !FENCE.test(lines[i]) &&
        !BULLET.test(lines[i]) &&
        !NUMBERED.test(lines[i])
      ) {
        paragraph.push(lines[i].trim());
        i += 1;
      }
      fragment.append(h("p", {}, renderInline(paragraph.join(" "))));
    }
  }
  return fragment;
}
