/** Parts of the discussion panel drawn from its state, without behaviour of their own. */
import { button, el } from './render';
import { IThread } from './types';

/** A thread opened from a notification or a flag whose notebook is not open here. */
export interface IAway {
  thread: IThread;
  /** A file in my server that holds its notebook, when one was found. */
  path: string | null;
}

/**
 * The thread from elsewhere, shown anyway: which notebook it is on, a button to open
 * that notebook when its file was found, and the thread itself (`threadNode`).
 */
export function awaySection(
  away: IAway,
  options: { threadNode: HTMLElement; onOpen: () => void; onClose: () => void }
): HTMLElement {
  const { thread, path } = away;
  const section = el('section', { class: 'cl-Away', 'aria-label': 'Thread from elsewhere' });
  section.dataset.testid = 'cl-away';
  section.append(el('h3', {}, thread.notebook_key ? 'From another notebook' : 'From another course'));
  const where = el('p', { class: 'cl-Away-where' }, thread.notebook_key
    ? `This thread is on ${thread.cell_key ? 'a cell of ' : ''}the notebook ${thread.notebook_key}` +
      `${path ? ` (${path})` : ', which is not open here'}.`
    : `This thread is in the Q&A of ${thread.course}.`);
  where.dataset.testid = 'cl-away-notebook';
  const actions = el('div', { class: 'cl-Thread-actions' });
  if (path) {
    const open = button('Open notebook', 'cl-open-notebook', options.onOpen);
    open.title = path;
    actions.append(open);
  } else if (thread.notebook_key) {
    where.append(' No file for it was found in your files.');
  }
  actions.append(button('Close', 'cl-away-close', options.onClose));
  const list = el('ul', { class: 'cl-Discussion-list', 'aria-label': 'Thread from elsewhere' });
  list.append(options.threadNode);
  section.append(where, actions, list);
  return section;
}

/**
 * The Q&A category filter (a kept `<select>`, so focus survives redraws), when the
 * course's Q&A has categories to choose from; the chosen one stays listed even when
 * no thread has it any more.
 */
export function categoryControl(
  select: HTMLSelectElement,
  categories: string[],
  current: string
): HTMLElement[] {
  const names = current && !categories.includes(current) ? [...categories, current] : categories;
  if (names.length === 0) {
    return [];
  }
  select.replaceChildren(el('option', { value: '' }, 'All categories'));
  for (const name of names) {
    select.append(el('option', { value: name }, name));
  }
  select.value = current;
  const label = el('label', { class: 'cl-Discussion-filterLabel' }, 'Category ');
  label.append(select);
  return [label];
}

/** A failure to open something, shown until dismissed or the next attempt. */
export function noticeLine(text: string, onDismiss: () => void): HTMLElement {
  const line = el('div', { class: 'cl-Panel-error', role: 'alert' }, text);
  line.dataset.testid = 'cl-discussion-notice';
  line.append(' ', button('Dismiss', 'cl-notice-dismiss', onDismiss));
  return line;
}
