import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { el, renderMarkdown, uniqueId } from '../discussions/render';

/** A date from the service, in the person's own words and time zone. */
export function when(iso: string | null | undefined): string {
  if (!iso) {
    return 'no due date';
  }
  const date = new Date(iso);
  return isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function points(n: number): string {
  return `${Number.isInteger(n) ? n : n.toFixed(2)} point${n === 1 ? '' : 's'}`;
}

/**
 * A Markdown text box with a Preview toggle; the preview goes through JupyterLab's
 * sanitizing renderer, as the author will see it.
 */
export function markdownField(
  rendermime: IRenderMimeRegistry,
  options: {
    label: string;
    value: string;
    testid: string;
    readOnly: boolean;
    rows?: number;
    onInput: (value: string) => void;
  }
): HTMLElement {
  const wrap = el('div', { class: 'cl-ReviewField' });
  const id = uniqueId('cl-review-field');
  const label = el('label', { for: id }, options.label);
  const area = el('textarea', { id, rows: String(options.rows ?? 3), class: 'cl-ReviewText' });
  area.value = options.value;
  area.readOnly = options.readOnly;
  area.dataset.testid = options.testid;
  area.addEventListener('input', () => options.onInput(area.value));
  const preview = el('div', { class: 'cl-ReviewPreview', 'aria-live': 'polite' });
  preview.hidden = true;
  const toggle = el('button', {
    type: 'button',
    class: 'jp-Button cl-ReviewPreviewToggle',
    'aria-pressed': 'false',
    'aria-controls': id
  });
  toggle.textContent = 'Preview';
  toggle.addEventListener('click', () => {
    const on = preview.hidden;
    preview.hidden = !on;
    area.hidden = on;
    toggle.setAttribute('aria-pressed', String(on));
    toggle.textContent = on ? 'Edit' : 'Preview';
    if (on) {
      renderMarkdown(rendermime, area.value || '*Nothing written yet.*', preview);
    }
  });
  const head = el('div', { class: 'cl-ReviewField-head' });
  head.append(label, toggle);
  wrap.append(head, area, preview);
  return wrap;
}
