import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { attachMentions, MemberLookup } from './mentions';
import { button, el, errorText, renderMarkdown, uniqueId } from './render';

export interface IComposed {
  body: string;
  kind: string;
  anonymous: boolean;
  /** "course", "staff", or "cohort:<name>". */
  audience: string;
  /** A course Q&A category, or "" (only from boxes drawn with `categories`). */
  category: string;
}

/**
 * The choices made in a new-thread box besides its text, kept by the caller like the text
 * draft: a redraw (news from someone else) must not quietly turn a staff-only or
 * anonymous question back into a public, named one.
 */
export interface IComposeChoices {
  kind: string;
  audience: string;
  anonymous: boolean;
  category: string;
}

export function freshChoices(): IComposeChoices {
  return { kind: 'comment', audience: 'course', anonymous: false, category: '' };
}

/** The longest category the service takes. */
export const MAX_CATEGORY = 100;

/**
 * A Markdown box with a preview (rendered by JupyterLab's sanitizing renderer), and
 * Ctrl/Cmd+Enter to send. Used for new threads (with kind, visibility, anonymity and, for
 * course Q&A, a category) and for replies.
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
    /**
     * Staff may open staff-only threads of any kind; learners only questions (the
     * service refuses the rest), so for them "Staff only" shows with kind "question".
     */
    isStaff?: boolean;
    /** For course Q&A: a category field suggesting these (categories already in use). */
    categories?: string[];
    submitLabel?: string;
    /** Text to start with, and a callback as it changes: drafts survive re-rendering. */
    draft?: string;
    onDraft?: (text: string) => void;
    /** A Cancel button (editing a post): the caller closes the box. */
    onCancel?: () => void;
    /** Kind, audience, anonymity and category to start with; updated as they change. */
    choices?: IComposeChoices;
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
  kind.dataset.testid = `${options.testid}-kind`;
  const audience = el('select', { 'aria-label': 'Who can read this thread' });
  audience.dataset.testid = `${options.testid}-visibility`;
  audience.append(el('option', { value: 'course' }, 'Everyone in the course'));
  const cohorts = options.cohorts ?? [];
  for (const cohort of cohorts) {
    audience.append(el('option', { value: `cohort:${cohort}` },
      cohorts.length === 1 ? `My cohort (${cohort})` : `My cohort: ${cohort}`));
  }
  const staffOnly = el('option', { value: 'staff' }, 'Staff only');
  const offerStaffOnly = () => {
    if (options.isStaff || kind.value === 'question') {
      audience.append(staffOnly);
    } else {
      if (audience.value === 'staff') {
        audience.value = 'course';
      }
      staffOnly.remove();
    }
  };
  const kept = options.choices;
  if (kept) {
    kind.value = kept.kind;
  }
  offerStaffOnly();
  kind.addEventListener('change', offerStaffOnly);
  if (kept && [...audience.options].some(o => o.value === kept.audience)) {
    audience.value = kept.audience;
  }
  const category = el('input', {
    type: 'text',
    class: 'cl-Compose-category',
    maxlength: String(MAX_CATEGORY),
    'aria-label': 'Category (optional)',
    placeholder: 'Category (optional)'
  });
  category.dataset.testid = `${options.testid}-category`;
  const suggestions = el('datalist', { id: uniqueId('cl-categories') });
  for (const name of options.categories ?? []) {
    suggestions.append(el('option', { value: name }));
  }
  category.setAttribute('list', suggestions.id);
  const anonymous = el('input', { type: 'checkbox', 'aria-label': 'Post anonymously to peers' });
  anonymous.dataset.testid = `${options.testid}-anonymous`;
  const anonLabel = el('label', { class: 'cl-Compose-anon' });
  anonLabel.append(anonymous, document.createTextNode(' anonymous to peers'));
  const keep = (into: IComposeChoices) => {
    into.kind = kind.value;
    into.audience = audience.value;
    into.anonymous = anonymous.checked;
    into.category = category.value;
  };
  if (kept) {
    anonymous.checked = kept.anonymous;
    category.value = kept.category;
    form.addEventListener('change', () => keep(kept));
    category.addEventListener('input', () => keep(kept));
  }
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
        audience: audience.value,
        category: options.categories ? category.value.trim() : ''
      });
      text.value = '';
      category.value = '';
      preview.hidden = true;
    } catch (reason) {
      error.textContent = errorText(reason);
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
  if (options.categories) {
    row.append(category, suggestions);
  }
  row.append(togglePreview, send);
  if (options.onCancel) {
    row.append(button('Cancel', `${options.testid}-cancel`, options.onCancel));
  }
  form.append(text, ...(mentions ? [mentions] : []), preview, row, error);
  return form;
}
