import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { attachMentions, MemberLookup } from './mentions';
import { button, el, renderMarkdown } from './render';

export interface IComposed {
  body: string;
  kind: string;
  anonymous: boolean;
  /** "course", "staff", or "cohort:<name>". */
  audience: string;
}

/**
 * A Markdown box with a preview (rendered by JupyterLab's sanitizing renderer), and
 * Ctrl/Cmd+Enter to send. Used for new threads (with kind and anonymity) and replies.
 */
export function composeBox(
  rendermime: IRenderMimeRegistry,
  options: {
    label: string;
    testid: string;
    withKind: boolean;
    onSubmit: (c: IComposed) => Promise<void>;
    members?: MemberLookup;
    /** Who may read a new thread: the course, one of my cohorts, or staff only. */
    cohorts?: string[];
    submitLabel?: string;
    /** Text to start with, and a callback as it changes: drafts survive re-rendering. */
    draft?: string;
    onDraft?: (text: string) => void;
  }
): HTMLElement {
  const form = el('form', { class: 'cl-Compose', 'aria-label': options.label });
  const text = el('textarea', {
    class: 'cl-Compose-body',
    rows: '3',
    'aria-label': options.label,
    placeholder: 'Markdown and $math$ welcome; @name to mention'
  });
  text.dataset.testid = `${options.testid}-body`;
  text.value = options.draft ?? '';
  text.addEventListener('input', () => options.onDraft?.(text.value));
  const mentions = options.members ? attachMentions(text, options.members) : null;
  const preview = el('div', { class: 'cl-Compose-preview', 'aria-live': 'polite' });
  preview.hidden = true;
  const kind = el('select', { 'aria-label': 'Kind of thread' });
  for (const k of ['comment', 'question', 'note']) {
    kind.append(el('option', { value: k }, k));
  }
  const audience = el('select', { 'aria-label': 'Who can read this thread' });
  audience.append(el('option', { value: 'course' }, 'whole course'));
  for (const cohort of options.cohorts ?? []) {
    audience.append(el('option', { value: `cohort:${cohort}` }, `cohort ${cohort} only`));
  }
  audience.append(el('option', { value: 'staff' }, 'staff only'));
  const anonymous = el('input', { type: 'checkbox', 'aria-label': 'Post anonymously to peers' });
  const anonLabel = el('label', { class: 'cl-Compose-anon' });
  anonLabel.append(anonymous, document.createTextNode(' anonymous to peers'));
  const error = el('p', { class: 'cl-Compose-error', role: 'alert' });

  const submit = async () => {
    error.textContent = '';
    if (!text.value.trim()) {
      error.textContent = 'Write something before posting.';
      return;
    }
    send.disabled = true;
    try {
      await options.onSubmit({
        body: text.value,
        kind: kind.value,
        anonymous: anonymous.checked,
        audience: audience.value
      });
      text.value = '';
      preview.hidden = true;
    } catch (reason) {
      error.textContent = reason instanceof Error ? reason.message : String(reason);
    } finally {
      send.disabled = false;
    }
  };
  const togglePreview = button('Preview', `${options.testid}-preview`, () => {
    preview.hidden = !preview.hidden;
    if (!preview.hidden) {
      renderMarkdown(rendermime, text.value, preview);
    }
  });
  const send = button(options.submitLabel ?? 'Post', `${options.testid}-submit`, () =>
    void submit()
  );
  text.addEventListener('keydown', event => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void submit();
    }
  });
  form.addEventListener('submit', event => {
    event.preventDefault();
    void submit();
  });
  const row = el('div', { class: 'cl-Compose-actions' });
  if (options.withKind) {
    row.append(kind, audience, anonLabel);
  }
  row.append(togglePreview, send);
  form.append(text, ...(mentions ? [mentions] : []), preview, row, error);
  return form;
}
