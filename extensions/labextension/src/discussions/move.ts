import { fingerprint } from './anchor';
import { INotebookPanelLike } from './notebook';
import { button, el, errorText, uniqueId } from './render';
import { IMoveDraft, IMoveTargets, IScope, IThread } from './types';

/**
 * Where a thread goes: `PATCH threads/{id}` with both keys (course Q&A = both null), the
 * new cell's anchor for a move onto a cell, and an optional category for the Q&A.
 */
export interface IMoveTo {
  notebook_key: string | null;
  cell_key: string | null;
  anchor?: Record<string, unknown>;
  category?: string;
}

/**
 * Staff's "Move…" control for one thread: a disclosure button and a small form with
 * three choices read from the notebook open right now — its notebook level, its active
 * cell, or the course Q&A. Choices that do not apply are shown disabled with the reason.
 * `open` is kept by the caller so a redraw keeps the form open, its choice and category.
 */
export function moveControl(options: {
  thread: IThread;
  targets: () => IMoveTargets;
  open: Map<number, IMoveDraft>;
  onMove: (to: IMoveTo) => Promise<void>;
}): { button: HTMLButtonElement; form: HTMLElement } {
  const { thread, open } = options;
  const form = el('form', { class: 'cl-Move', id: uniqueId('cl-move'),
    'aria-label': `Move ${thread.title}` });
  form.dataset.testid = 'cl-move-form';
  const toggle = button('Move…', 'cl-move', () => {
    if (form.hidden) {
      open.set(thread.id, { choice: null, category: '' });
      show(true);
      (form.querySelector('input:not([disabled])') as HTMLElement | null)?.focus();
    } else {
      open.delete(thread.id);
      show(false);
    }
  });
  toggle.setAttribute('aria-controls', form.id);

  const show = (visible: boolean) => {
    form.hidden = !visible;
    toggle.setAttribute('aria-expanded', String(visible));
    if (visible) {
      fill(options.targets());
    }
  };

  const error = el('p', { class: 'cl-Compose-error', role: 'alert' });
  error.dataset.testid = 'cl-move-error';
  const group = el('fieldset', { class: 'cl-Move-choices' });
  const name = uniqueId('cl-move-to');
  let choices: { input: HTMLInputElement; to: IMoveTo }[] = [];
  let cellAnchor: (() => Promise<Record<string, unknown>>) | null = null;
  const categoryId = uniqueId('cl-move-category');
  const category = el('input', {
    type: 'text', id: categoryId, maxlength: '100', autocomplete: 'off',
    placeholder: 'e.g. setup, pandas'
  });
  category.dataset.testid = 'cl-move-category';
  category.value = open.get(thread.id)?.category ?? '';
  category.addEventListener('input', () => {
    const draft = open.get(thread.id);
    if (draft) {
      draft.category = category.value;
    }
  });
  const categoryRow = el('p', { class: 'cl-Move-category' });
  categoryRow.append(el('label', { for: categoryId }, 'Q&A category (optional) '), category);

  const fill = (targets: IMoveTargets) => {
    group.replaceChildren(el('legend', {}, 'Move this thread to'));
    choices = [];
    const here = (to: IMoveTo) =>
      to.notebook_key === thread.notebook_key && to.cell_key === thread.cell_key;
    const add = (value: string, label: string, to: IMoveTo | null, why: string) => {
      const input = el('input', { type: 'radio', name, value });
      input.dataset.testid = `cl-move-to-${value}`;
      const item = el('label', { class: 'cl-Move-choice' });
      let text = label;
      if (to === null) {
        input.disabled = true;
        text += ` (${why})`;
      } else if (here(to)) {
        input.disabled = true;
        text += ' (it is here now)';
      } else {
        choices.push({ input, to });
        input.addEventListener('change', () => {
          const draft = open.get(thread.id);
          if (draft && input.checked) {
            draft.choice = value;
          }
        });
      }
      item.append(input, document.createTextNode(` ${text}`));
      group.append(item);
    };
    const nb = targets.notebook;
    cellAnchor = targets.cell?.anchor ?? null;
    add('notebook', nb ? `Notebook level of ${nb.label}` : 'Notebook level of the open notebook',
      nb ? { notebook_key: nb.key, cell_key: null } : null, 'open a course notebook first');
    add('cell', targets.cell && nb ? `The selected cell (${targets.cell.label}) of ${nb.label}`
      : 'The selected cell of the open notebook',
      targets.cell && nb ? { notebook_key: nb.key, cell_key: targets.cell.key } : null,
      'select a cell in a course notebook first');
    add('course', 'Course Q&A', { notebook_key: null, cell_key: null }, '');
    if (choices.length) {
      const chosen = open.get(thread.id)?.choice;
      (choices.find(c => c.input.value === chosen) ?? choices[0]).input.checked = true;
    }
  };

  const submit = async () => {
    error.textContent = '';
    const chosen = choices.find(c => c.input.checked);
    if (!chosen) {
      error.textContent = 'Choose where to move the thread.';
      return;
    }
    send.disabled = true;
    try {
      const to: IMoveTo = { ...chosen.to };
      if (to.cell_key && cellAnchor) {
        to.anchor = await cellAnchor();
      }
      if (!to.notebook_key && category.value.trim()) {
        to.category = category.value.trim();
      }
      await options.onMove(to);
      open.delete(thread.id);
    } catch (reason) {
      error.textContent = errorText(reason);
    } finally {
      send.disabled = false;
    }
  };
  const send = button('Move', 'cl-move-submit', () => void submit());
  const cancel = button('Cancel', 'cl-move-cancel', () => {
    open.delete(thread.id);
    show(false);
    toggle.focus();
  });
  form.addEventListener('submit', event => {
    event.preventDefault();
    void submit();
  });
  form.addEventListener('keydown', event => {
    if (event.key === 'Escape') {
      event.preventDefault();
      cancel.click();
    }
  });
  const row = el('div', { class: 'cl-Compose-actions' });
  row.append(send, cancel);
  form.append(group, categoryRow, row, error);
  show(open.has(thread.id));
  return { button: toggle, form };
}

/** Where a thread could move now: the notebook open in the panel and its active cell. */
export function moveTargetsIn(
  panel: INotebookPanelLike | null,
  scope: IScope | null,
  course: string
): IMoveTargets {
  if (!panel || !scope || scope.course !== course || !scope.notebookKey) {
    return { notebook: null, cell: null };
  }
  const content = panel.content;
  const index = content.activeCell ? content.widgets.indexOf(content.activeCell) : -1;
  return {
    notebook: { key: scope.notebookKey, label: panel.context.path.split('/').pop() ?? '' },
    cell:
      scope.cellKey && index >= 0
        ? {
            key: scope.cellKey,
            label: `cell ${index + 1}`,
            anchor: async () => ({
              ...(await fingerprint(content.widgets, index)),
              path: panel.context.path
            })
          }
        : null
  };
}
