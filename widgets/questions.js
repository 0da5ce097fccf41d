// One answer control per question type, and the correct answer as a person reads it.
//
// Each builder returns { node, read(), setDisabled(bool) }. `read()` gives
// { ok: true, value } with the answer in the shape the service grades
// (docs/quizzes.md), or { ok: false, message } saying what is missing; the service
// still checks everything, this only spares a wasted attempt on an empty answer.

import { h, formatNumber, setText, uid } from "./dom.js";
import { renderInline } from "./markdown.js";

/** The control for `question`, prefilled from the learner's last answer if any. */
export function answerControl(question, lastAnswer, testid) {
  const build = BUILDERS[question.type];
  if (!build) {
    return {
      node: h("p", {
        class: "cl-w-hint",
        text: `This widget cannot show "${question.type}" questions yet; update CohortLab.`,
      }),
      read: () => ({ ok: false, message: "This question type is not supported here." }),
      setDisabled() {},
    };
  }
  return build(question, lastAnswer, testid);
}

const BUILDERS = { single: choices, multiple: choices, numeric, text, ordering };

function choices(question, lastAnswer, testid) {
  const multiple = question.type === "multiple";
  const name = uid(`cl-q-${question.id}`);
  const picked = new Set(multiple ? (Array.isArray(lastAnswer) ? lastAnswer : []) : [lastAnswer]);
  const inputs = question.choices.map((choice) =>
    h("input", {
      type: multiple ? "checkbox" : "radio",
      name,
      value: choice.id,
      checked: picked.has(choice.id),
      testid: `${testid}-choice-${choice.id}`,
    }),
  );
  // Arrow keys move between radio buttons; JupyterLab must not take them as notebook
  // shortcuts (select cell above/below) while a choice has focus.
  const node = h(
    "div",
    { class: "cl-quiz-choices", "data-lm-suppress-shortcuts": "true" },
    question.choices.map((choice, i) =>
      h("label", { class: "cl-quiz-choice" }, inputs[i], h("span", {}, renderInline(choice.text))),
    ),
  );
  return {
    node,
    read() {
      const ids = inputs.filter((input) => input.checked).map((input) => input.value);
      if (multiple) return { ok: true, value: ids };
      return ids.length
        ? { ok: true, value: ids[0] }
        : { ok: false, message: "Choose an answer first." };
    },
    setDisabled(disabled) {
      for (const input of inputs) input.disabled = disabled;
    },
  };
}

function field(question, input) {
  const id = uid(`cl-q-${question.id}-input`);
  input.id = id;
  return h(
    "div",
    { class: "cl-quiz-field" },
    h("label", { for: id, text: "Your answer" }),
    input,
  );
}

function numeric(question, lastAnswer, testid) {
  const input = h("input", {
    type: "number",
    step: "any",
    inputmode: "decimal",
    autocomplete: "off",
    testid: `${testid}-input`,
    value: typeof lastAnswer === "number" ? String(lastAnswer) : "",
  });
  return {
    node: field(question, input),
    read() {
      const raw = input.value.trim();
      const value = raw === "" ? NaN : Number(raw);
      if (input.validity?.badInput || !Number.isFinite(value)) {
        return { ok: false, message: "Enter a number, for example 3.14 or -2e-3." };
      }
      return { ok: true, value };
    },
    setDisabled(disabled) {
      input.disabled = disabled;
    },
  };
}

function text(question, lastAnswer, testid) {
  const input = h("input", {
    type: "text",
    maxlength: "1000",
    autocomplete: "off",
    spellcheck: "false",
    testid: `${testid}-input`,
    value: typeof lastAnswer === "string" ? lastAnswer : "",
  });
  return {
    node: field(question, input),
    read() {
      return input.value.trim()
        ? { ok: true, value: input.value }
        : { ok: false, message: "Type an answer first." };
    },
    setDisabled(disabled) {
      input.disabled = disabled;
    },
  };
}

/**
 * Ordering: a list reordered with "Move up"/"Move down" buttons, or Alt+ArrowUp/Down on
 * a focused item. Focus follows the moved item and a polite live region says where it
 * went, so the control works without a mouse and without sight; there is no drag-only
 * path.
 */
function ordering(question, lastAnswer, testid) {
  const byId = new Map(question.items.map((item) => [item.id, item]));
  const valid =
    Array.isArray(lastAnswer) &&
    lastAnswer.length === question.items.length &&
    lastAnswer.every((id) => byId.has(id)) &&
    new Set(lastAnswer).size === lastAnswer.length;
  let order = valid ? [...lastAnswer] : question.items.map((item) => item.id);
  let disabled = false;
  const announcer = h("p", { class: "cl-w-sr-only", role: "status", "aria-live": "polite" });
  // Alt+Arrow keys are ours here, not JupyterLab's (see choices()).
  const list = h("ol", {
    class: "cl-quiz-order",
    testid: `${testid}-order`,
    "data-lm-suppress-shortcuts": "true",
  });
  const rows = new Map();

  for (const item of question.items) {
    const label = item.text;
    const up = h("button", {
      type: "button",
      class: "cl-w-button cl-w-small",
      text: "Move up",
      "aria-label": `Move "${label}" up`,
      testid: `${testid}-item-${item.id}-up`,
      onclick: () => move(item.id, -1, up),
    });
    const down = h("button", {
      type: "button",
      class: "cl-w-button cl-w-small",
      text: "Move down",
      "aria-label": `Move "${label}" down`,
      testid: `${testid}-item-${item.id}-down`,
      onclick: () => move(item.id, 1, down),
    });
    const position = h("span", { class: "cl-quiz-order-position", "aria-hidden": "true" });
    const row = h(
      "li",
      {
        class: "cl-quiz-order-item",
        tabindex: "0",
        testid: `${testid}-item-${item.id}`,
        "data-item": item.id,
        onkeydown: (event) => {
          if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
          event.preventDefault();
          event.stopPropagation();
          move(item.id, event.key === "ArrowUp" ? -1 : 1, row);
        },
      },
      position,
      h("span", { class: "cl-quiz-order-text" }, renderInline(item.text)),
      h("span", { class: "cl-quiz-order-buttons" }, up, down),
    );
    rows.set(item.id, { row, up, down, position });
  }

  function layout() {
    order.forEach((id, index) => {
      const { row, up, down, position } = rows.get(id);
      // Only move rows that are out of place: re-inserting a row would drop its focus.
      if (list.children[index] !== row) list.insertBefore(row, list.children[index] ?? null);
      setText(position, `${index + 1}.`);
      up.disabled = disabled || index === 0;
      down.disabled = disabled || index === order.length - 1;
      const where = `position ${index + 1} of ${order.length}`;
      row.setAttribute("aria-label", `${byId.get(id).text}, ${where}`);
    });
  }

  function move(id, step, focusAfter) {
    if (disabled) return;
    const from = order.indexOf(id);
    const to = from + step;
    if (to < 0 || to >= order.length) return;
    order.splice(from, 1);
    order.splice(to, 0, id);
    layout();
    const target = focusAfter.disabled ? rows.get(id).row : focusAfter;
    target.focus();
    setText(announcer, `"${byId.get(id).text}" moved to position ${to + 1} of ${order.length}.`);
  }

  layout();
  return {
    node: h(
      "div",
      { class: "cl-quiz-ordering" },
      h("p", {
        class: "cl-w-hint",
        text: "Put the items in order with Move up and Move down, or Alt+Arrow Up/Down on an item.",
      }),
      list,
      announcer,
    ),
    read: () => ({ ok: true, value: [...order] }),
    setDisabled(value) {
      disabled = value;
      layout();
    },
  };
}

/** The service's `correct_answer` (only present once a question is done), for a person. */
export function correctAnswerView(question, correct) {
  const label = (id) => {
    const options = question.choices ?? question.items ?? [];
    const found = options.find((option) => option.id === id);
    return found ? renderInline(found.text) : [String(id)];
  };
  switch (question.type) {
    case "single":
      return h("span", {}, label(correct));
    case "multiple":
      return Array.isArray(correct) && correct.length
        ? h("ul", {}, correct.map((id) => h("li", {}, label(id))))
        : h("span", { text: "none of the choices" });
    case "ordering":
      return h(
        "ol",
        {},
        (Array.isArray(correct) ? correct : []).map((id) => h("li", {}, label(id))),
      );
    case "numeric": {
      if (!correct || typeof correct !== "object") return h("span", { text: String(correct) });
      let text = formatNumber(correct.answer);
      if (correct.relative_tolerance) {
        text += ` (± ${formatNumber(correct.relative_tolerance * 100)} %)`;
      }
      else if (correct.tolerance) text += ` (± ${formatNumber(correct.tolerance)})`;
      return h("span", { text });
    }
    case "text":
      return correct && typeof correct === "object" && "pattern" in correct
        ? h("span", {}, "text matching the pattern ", h("code", { text: correct.pattern }))
        : h("span", { text: String(correct) });
    default:
      return h("span", { text: JSON.stringify(correct) });
  }
}
