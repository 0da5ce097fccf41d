import { ICohortLabClient, ICohortLabEvent } from '../tokens';
import { button, el, errorText, uniqueId } from './render';
import { IFlaggedPost } from './types';

const EXCERPT_LENGTH = 200;
const RELOAD_DELAY_MS = 150;

/**
 * Staff's "Flags (n)" button and the list of flagged posts it opens: each with the
 * flag count and reasons, and "Open thread", "Hide post" and "Dismiss". The panel only
 * makes one for staff of the course (learners get 403 from the flag list). The count is
 * fetched again on every `discussion` event of the course and after each action.
 */
export class FlagList {
  /** The button, for the panel's header row. */
  readonly toggleButton: HTMLButtonElement;
  /** The list, shown under the header row when open. */
  readonly region: HTMLElement;

  constructor(
    private readonly client: ICohortLabClient,
    readonly course: string,
    private readonly openThread: (course: string, threadId: number) => void
  ) {
    this.region = el('section', { class: 'cl-Flags', id: uniqueId('cl-flags'),
      'aria-label': 'Flagged posts' });
    this.region.dataset.testid = 'cl-flag-list';
    this.region.hidden = true;
    this.toggleButton = button('Flags', 'cl-flags', () => void this.toggle());
    this.toggleButton.setAttribute('aria-expanded', 'false');
    this.toggleButton.setAttribute('aria-controls', this.region.id);
    this.setCount(null);
    client.events.connect(this.onEvent, this);
    void this.load();
  }

  dispose(): void {
    this.client.events.disconnect(this.onEvent, this);
    window.clearTimeout(this.timer);
  }

  private onEvent(_: ICohortLabClient, event: ICohortLabEvent): void {
    if (event.type === 'discussion' && event.course === this.course) {
      window.clearTimeout(this.timer);
      this.timer = window.setTimeout(() => void this.load(), RELOAD_DELAY_MS);
    }
  }

  private setCount(count: number | null): void {
    this.toggleButton.textContent = count === null ? 'Flags' : `Flags (${count})`;
    this.toggleButton.dataset.count = count === null ? '' : String(count);
    this.toggleButton.setAttribute('aria-label', count === null
      ? 'Flagged posts'
      : `Flags (${count}): ${count === 1 ? 'one flagged post' : `${count} flagged posts`}`);
  }

  /** Fetch the flags; the newest answer wins when loads overlap. */
  async load(): Promise<void> {
    const generation = ++this.generation;
    try {
      const data = await this.client.requestAPI<{ flags: IFlaggedPost[]; count: number }>(
        `courses/${encodeURIComponent(this.course)}/flags`
      );
      if (generation !== this.generation) {
        return;
      }
      this.setCount(data.count);
      this.render(data.flags);
    } catch (reason) {
      if (generation === this.generation) {
        this.setCount(null);
        const alert = el('p', { class: 'cl-Compose-error', role: 'alert' },
          `Could not load the flags: ${errorText(reason)}`);
        alert.dataset.testid = 'cl-flags-error';
        this.region.replaceChildren(el('h3', {}, 'Flagged posts'), alert);
      }
    }
  }

  private async toggle(): Promise<void> {
    const open = this.region.hidden;
    this.region.hidden = !open;
    this.toggleButton.setAttribute('aria-expanded', String(open));
    if (open) {
      await this.load();
    }
  }

  private render(flags: IFlaggedPost[]): void {
    // Keep focus on the same control, or the one now at its place, across a reload.
    const focused = this.region.contains(document.activeElement)
      ? (document.activeElement as HTMLElement).dataset.focusKey ?? null
      : null;
    const heading = el('h3', {}, 'Flagged posts');
    if (flags.length === 0) {
      const empty = el('p', { class: 'cl-Discussion-empty' }, 'No flagged posts. All clear.');
      empty.dataset.testid = 'cl-flags-empty';
      this.region.replaceChildren(heading, empty);
      if (focused !== null) {
        this.toggleButton.focus();
      }
      return;
    }
    const list = el('ul', { class: 'cl-Discussion-list', 'aria-label': 'Flagged posts' });
    for (const flag of flags) {
      list.append(this.renderFlag(flag));
    }
    this.region.replaceChildren(heading, list);
    if (focused !== null) {
      const again = this.region.querySelector<HTMLElement>(`[data-focus-key="${focused}"]`);
      (again ?? this.region.querySelector<HTMLElement>('button') ?? this.toggleButton).focus();
    }
  }

  private renderFlag(flag: IFlaggedPost): HTMLElement {
    const item = el('li', { class: 'cl-Flag' });
    item.dataset.testid = 'cl-flag-item';
    item.dataset.postId = String(flag.post_id);
    const who = flag.author ?? 'Anonymous';
    item.append(
      el('div', { class: 'cl-Thread-title' }, flag.thread_title),
      el('div', { class: 'cl-Post-meta' },
        `${who}'s post · flagged ${flag.count} ${flag.count === 1 ? 'time' : 'times'}` +
          (flag.hidden ? ' · hidden' : ''))
    );
    // The flagged text may be hostile: shown as plain text, shortened.
    const body = flag.body ?? '';
    const excerpt = el('blockquote', { class: 'cl-Flag-body' },
      body.length > EXCERPT_LENGTH ? body.slice(0, EXCERPT_LENGTH) + '…' : body);
    excerpt.dataset.testid = 'cl-flag-body';
    const reasons = el('ul', { class: 'cl-Flag-reasons', 'aria-label': 'Reasons given' });
    for (const r of flag.reasons) {
      reasons.append(el('li', {}, `${r.by ?? 'someone'}: ${r.reason}`));
    }
    const status = el('p', { class: 'cl-Compose-error', role: 'alert' });
    const actions = el('div', { class: 'cl-Thread-actions', role: 'toolbar',
      'aria-label': `Moderate ${who}'s flagged post` });
    const postPath = `courses/${encodeURIComponent(this.course)}/posts/${flag.post_id}`;
    const act = (run: () => Promise<unknown>) => async () => {
      status.textContent = '';
      try {
        await run();
      } catch (reason) {
        status.textContent = errorText(reason);
        return;
      }
      await this.load();
    };
    const open = button('Open thread', 'cl-flag-open', () => {
      this.region.hidden = true;
      this.toggleButton.setAttribute('aria-expanded', 'false');
      this.openThread(this.course, flag.thread_id);
    });
    actions.append(open);
    if (!flag.hidden) {
      const hide = button('Hide post', 'cl-flag-hide', () => void act(() =>
        this.client.requestAPI(postPath, { method: 'PATCH', body: JSON.stringify({ hidden: true }) })
      )());
      hide.dataset.focusKey = `hide-${flag.post_id}`;
      actions.append(hide);
    }
    const dismiss = button('Dismiss', 'cl-flag-dismiss', () => void act(() =>
      this.client.requestAPI(`${postPath}/flags`, { method: 'DELETE' })
    )());
    dismiss.dataset.focusKey = `dismiss-${flag.post_id}`;
    actions.append(dismiss);
    item.append(excerpt, reasons, actions, status);
    return item;
  }

  private generation = 0;
  private timer = 0;
}
