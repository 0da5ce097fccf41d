import { el } from './render';

export type MemberLookup = (prefix: string) => Promise<{ name: string; role: string }[]>;

/**
 * @mention completion for a textarea: typing `@` and a few letters lists course members;
 * ArrowUp/ArrowDown choose, Enter or Tab insert, Escape closes. The list is a listbox
 * the textarea points at with aria-activedescendant, so screen readers follow it.
 */
export function attachMentions(text: HTMLTextAreaElement, lookup: MemberLookup): HTMLElement {
  const list = el('ul', { class: 'cl-Mentions', role: 'listbox', 'aria-label': 'Mention someone' });
  list.id = `cl-mentions-${Math.random().toString(36).slice(2, 8)}`;
  list.hidden = true;
  text.setAttribute('aria-controls', list.id);
  let options: string[] = [];
  let active = 0;
  let request = 0;

  const word = (): { start: number; prefix: string } | null => {
    const before = text.value.slice(0, text.selectionStart ?? text.value.length);
    const match = /(^|\s)@([\w.-]*)$/.exec(before);
    return match ? { start: before.length - match[2].length, prefix: match[2] } : null;
  };
  const close = () => {
    list.hidden = true;
    options = [];
    text.removeAttribute('aria-activedescendant');
  };
  const show = () => {
    list.replaceChildren();
    options.forEach((name, i) => {
      const item = el('li', { role: 'option', id: `${list.id}-${i}`,
        'aria-selected': String(i === active) }, `@${name}`);
      item.dataset.testid = 'cl-mention-option';
      item.addEventListener('mousedown', event => {
        event.preventDefault();
        active = i;
        insert();
      });
      list.append(item);
    });
    list.hidden = options.length === 0;
    text.setAttribute('aria-activedescendant', `${list.id}-${active}`);
  };
  const insert = () => {
    const at = word();
    if (!at || !options[active]) {
      return close();
    }
    const end = text.selectionStart ?? text.value.length;
    text.value = text.value.slice(0, at.start) + options[active] + ' ' + text.value.slice(end);
    const caret = at.start + options[active].length + 1;
    text.setSelectionRange(caret, caret);
    close();
  };
  text.addEventListener('input', async () => {
    const at = word();
    if (!at) {
      return close();
    }
    const mine = ++request;
    const members = await lookup(at.prefix).catch(() => []);
    if (mine !== request) {
      return;
    }
    options = members.map(m => m.name).slice(0, 8);
    active = 0;
    show();
  });
  text.addEventListener('keydown', event => {
    if (list.hidden) {
      return;
    }
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      active = (active + (event.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
      show();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      event.preventDefault();
      event.stopImmediatePropagation();
      insert();
    } else if (event.key === 'Escape') {
      close();
    }
  });
  text.addEventListener('blur', () => window.setTimeout(close, 150));
  return list;
}
