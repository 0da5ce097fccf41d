import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { ICohortLabClient } from '../tokens';
import { composeBox } from './compose';
import { historyControl } from './history';
import { moveControl } from './move';
import { applyFocus, button, el, focusMark, IFocusMark, renderMarkdown } from './render';
import { IMoveTargets, IPost, IThread, IViewState } from './types';

/** How a thread view fits in the panel; everything but the thread is optional. */
export interface IThreadViewOptions {
  /** Called after this view changed the thread, so the panel refreshes around it. */
  onChanged?: () => void;
  isStaff?: boolean;
  expanded?: boolean;
  onToggle?: (id: number, open: boolean) => void;
  /** How the thread sits in this copy of the notebook ("cell removed", ...), if off. */
  placement?: string | null;
  /** Shared with the panel: reply drafts, open histories and move forms survive redraws. */
  state?: Pick<IViewState, 'drafts' | 'histories' | 'editing' | 'moving'>;
  /** For staff's "Move…": where the thread could go, read when the form opens. */
  moveTargets?: () => IMoveTargets;
}

/** One thread: a summary line that expands into its posts, actions and a reply box. */
export class ThreadView {
  readonly node: HTMLElement;

  constructor(
    private readonly client: ICohortLabClient,
    private readonly rendermime: IRenderMimeRegistry,
    private thread: IThread,
    options: IThreadViewOptions = {}
  ) {
    this.onChanged = options.onChanged ?? (() => undefined);
    this.isStaff = options.isStaff ?? false;
    this.expanded = options.expanded ?? false;
    this.onToggle = options.onToggle ?? (() => undefined);
    this.placement = options.placement ?? null;
    this.state = options.state ?? {
      drafts: new Map(),
      histories: new Set(),
      editing: new Map(),
      moving: new Map()
    };
    this.moveTargets = options.moveTargets ?? null;
    this.node = el('li', { class: 'cl-Thread' });
    this.node.dataset.testid = 'cl-thread';
    this.node.dataset.threadId = String(thread.id);
    this.render();
  }

  get id(): number {
    return this.thread.id;
  }

  get isExpanded(): boolean {
    return this.expanded;
  }

  async toggle(open = !this.expanded): Promise<void> {
    this.expanded = open;
    this.onToggle(this.thread.id, open);
    if (open) {
      await this.reload();
    } else {
      this.render();
    }
  }

  async reload(): Promise<void> {
    const generation = ++this.generation;
    const thread = await this.client.requestAPI<IThread>(this.path());
    if (generation === this.generation) {
      this.thread = thread;
      this.render();
    }
  }

  /**
   * Put focus where a mark says (taken before the panel redrew this thread), or on the
   * thread's title: now if it is drawn, else once the posts have loaded.
   */
  focus(mark: IFocusMark | null): void {
    this.focusWanted = mark ?? { testid: 'cl-thread-title', rank: 0, selection: null };
    this.applyWantedFocus();
  }

  private applyWantedFocus(): void {
    const mark = this.focusWanted;
    if (!mark) {
      return;
    }
    if (applyFocus(this.node, mark)) {
      this.focusWanted = null;
    } else if (!this.expanded || this.thread.posts) {
      // fully drawn and the control is gone (say, the form it was in): the title
      this.node.querySelector<HTMLElement>('.cl-Thread-head')?.focus();
      this.focusWanted = null;
    }
  }

  private path(suffix = ''): string {
    return `courses/${encodeURIComponent(this.thread.course)}/threads/${this.thread.id}${suffix}`;
  }

  private generation = 0;
  private focusWanted: IFocusMark | null = null;
  private readonly onChanged: () => void;
  private readonly isStaff: boolean;
  private expanded: boolean;
  private readonly onToggle: (id: number, open: boolean) => void;
  private readonly placement: string | null;
  private readonly state: Pick<IViewState, 'drafts' | 'histories' | 'editing' | 'moving'>;
  private readonly moveTargets: (() => IMoveTargets) | null;

  private async act(path: string, method: string, body?: unknown): Promise<void> {
    ++this.generation;
    this.thread = await this.client.requestAPI<IThread>(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    this.render();
    this.onChanged();
  }

  /** A reply answers with the new post and the thread's summary, not every post. */
  private async reply(body: string): Promise<void> {
    ++this.generation;
    const made = await this.client.requestAPI<{ post: IPost; thread: IThread }>(
      this.path('/posts'),
      { method: 'POST', body: JSON.stringify({ body }) }
    );
    this.thread = {
      ...this.thread,
      ...made.thread,
      posts: [...(this.thread.posts ?? []), made.post]
    };
    this.render();
    this.onChanged();
  }

  private render(): void {
    // Redrawing replaces every control: focus inside must land on the same one again.
    const mark = focusMark(this.node);
    if (mark && !this.focusWanted) {
      this.focusWanted = mark;
    }
    this.draw();
    this.applyWantedFocus();
  }

  private draw(): void {
    const t = this.thread;
    const head = el('button', {
      type: 'button',
      class: 'cl-Thread-head',
      'aria-expanded': String(this.expanded)
    });
    head.dataset.testid = 'cl-thread-title';
    const marks = [
      t.kind !== 'comment' ? t.kind : '',
      t.resolved ? 'resolved' : '',
      t.pinned ? 'pinned' : '',
      t.locked ? 'locked' : '',
      this.placement ?? ''
    ].filter(Boolean);
    if (this.placement) {
      this.node.dataset.placement = this.placement;
    }
    this.node.dataset.visibility = t.visibility;
    const labels = el('span', { class: 'cl-Thread-labels' });
    if (t.visibility !== 'course') {
      const only = el('span', { class: 'cl-Label cl-Label-visibility' },
        t.visibility === 'cohort' ? `cohort ${t.cohort ?? ''} only` : 'staff only');
      only.dataset.testid = 'cl-thread-visibility';
      labels.append(only);
    }
    if (t.category) {
      const category = el('span', { class: 'cl-Label cl-Label-category' }, t.category);
      category.setAttribute('aria-label', `Category: ${t.category}`);
      category.dataset.testid = 'cl-thread-category';
      labels.append(category);
    }
    head.append(
      el('span', { class: 'cl-Thread-title' }, t.title),
      el('span', { class: 'cl-Thread-meta' },
        `${t.author ?? 'Anonymous'} · ${t.reply_count} ${t.reply_count === 1 ? 'reply' : 'replies'}` +
          (marks.length ? ` · ${marks.join(', ')}` : ''))
    );
    if (labels.childElementCount) {
      head.append(labels);
    }
    head.addEventListener('click', () => void this.toggle());
    this.node.dataset.resolved = String(t.resolved);
    this.node.replaceChildren(head);
    if (!this.expanded || !t.posts) {
      return;
    }
    const posts = el('ol', { class: 'cl-Thread-posts', 'aria-label': `Posts in ${t.title}` });
    for (const post of t.posts) {
      posts.append(this.renderPost(post));
    }
    const actions = el('div', { class: 'cl-Thread-actions', role: 'toolbar',
      'aria-label': 'Thread actions' });
    if (t.mine || this.isStaff) {
      actions.append(
        button(t.resolved ? 'Reopen' : 'Resolve', 'cl-resolve', () =>
          void this.act(this.path(), 'PATCH', { resolved: !t.resolved })
        )
      );
    }
    if (this.isStaff) {
      actions.append(
        button(t.pinned ? 'Unpin' : 'Pin', 'cl-pin', () =>
          void this.act(this.path(), 'PATCH', { pinned: !t.pinned })),
        button(t.locked ? 'Unlock' : 'Lock', 'cl-lock', () =>
          void this.act(this.path(), 'PATCH', { locked: !t.locked })),
        button(t.hidden ? 'Unhide thread' : 'Hide thread', 'cl-hide-thread', () =>
          void this.act(this.path(), 'PATCH', { hidden: !t.hidden }))
      );
    }
    let moveForm: HTMLElement | null = null;
    if (this.isStaff && this.moveTargets) {
      const move = moveControl({
        thread: t,
        targets: this.moveTargets,
        open: this.state.moving,
        onMove: to => this.act(this.path(), 'PATCH', to)
      });
      actions.append(move.button);
      moveForm = move.form;
    }
    actions.append(
      button(t.following ? 'Unfollow' : 'Follow', 'cl-follow', () =>
        void this.client
          .requestAPI(this.path('/follow'), { method: t.following ? 'DELETE' : 'PUT' })
          .then(() => this.reload())
      )
    );
    this.node.append(posts, actions, ...(moveForm ? [moveForm] : []));
    if (!t.locked) {
      this.node.append(
        composeBox(this.rendermime, {
          label: `Reply to ${t.title}`,
          testid: 'cl-reply',
          withKind: false,
          members: prefix => this.members(prefix),
          // The panel redraws on every change nearby; a half-written reply must survive.
          draft: this.state.drafts.get(t.id) ?? '',
          onDraft: text => this.state.drafts.set(t.id, text),
          onSubmit: async ({ body }) => {
            await this.reply(body);
            this.state.drafts.delete(t.id);
          }
        })
      );
    } else {
      this.node.append(el('p', { class: 'cl-Thread-locked' }, 'Staff locked this thread.'));
    }
  }

  private async members(prefix: string): Promise<{ name: string; role: string }[]> {
    const course = encodeURIComponent(this.thread.course);
    const found = await this.client.requestAPI<{ members: { name: string; role: string }[] }>(
      `courses/${course}/members?q=${encodeURIComponent(prefix)}`
    );
    return found.members;
  }

  private renderPost(post: IPost): HTMLElement {
    const item = el('li', { class: 'cl-Post' });
    item.dataset.testid = 'cl-post';
    const who = post.author ?? 'Anonymous';
    const meta = el('div', { class: 'cl-Post-meta' },
      `${who}${post.endorsed ? ` · endorsed by ${post.endorsed_by}` : ''}` +
        `${post.accepted ? ' · accepted answer' : ''}`);
    if (post.edited_at) {
      const edited = el('span', { class: 'cl-Post-edited' }, ' · edited');
      edited.dataset.testid = 'cl-post-edited';
      edited.title = `Edited ${new Date(post.edited_at).toLocaleString()}`;
      meta.append(edited);
    }
    const body = el('div', { class: 'cl-Post-body' });
    body.dataset.testid = 'cl-post-body';
    if (post.deleted) {
      body.textContent = 'deleted';
      body.classList.add('cl-Post-removed');
    } else if (post.body === null) {
      body.textContent = 'hidden by a moderator';
      body.classList.add('cl-Post-removed');
    } else {
      renderMarkdown(this.rendermime, post.body, body);
    }
    const vote = button(`▲ ${post.votes}`, 'cl-upvote', () =>
      void this.act(
        `courses/${encodeURIComponent(this.thread.course)}/posts/${post.id}/vote`,
        post.voted ? 'DELETE' : 'PUT'
      )
    );
    vote.setAttribute('aria-pressed', String(post.voted));
    vote.setAttribute('aria-label', `Upvote (${post.votes} so far)`);
    vote.disabled = post.mine;
    const tools = el('div', { class: 'cl-Post-actions', role: 'toolbar',
      'aria-label': `Actions on ${who}'s post` });
    tools.append(vote);
    const postPath = `courses/${encodeURIComponent(this.thread.course)}/posts/${post.id}`;
    const isFirst = this.thread.posts?.[0]?.id === post.id;
    if (this.thread.kind === 'question' && !isFirst && (this.thread.mine || this.isStaff)
        && !post.deleted) {
      tools.append(button(post.accepted ? 'Unaccept' : 'Accept answer', 'cl-accept', () =>
        void this.act(this.path(), 'PATCH',
          { accepted_post_id: post.accepted ? null : post.id })));
    }
    if (this.isStaff) {
      tools.append(
        button(post.endorsed ? 'Withdraw endorsement' : 'Endorse', 'cl-endorse', () =>
          void this.act(`${postPath}/endorsement`, post.endorsed ? 'DELETE' : 'PUT')),
        button(post.hidden ? 'Unhide' : 'Hide', 'cl-hide-post', () =>
          void this.act(postPath, 'PATCH', { hidden: !post.hidden }))
      );
    } else if (!post.mine && !post.deleted) {
      tools.append(button('Flag', 'cl-flag', () => {
        const reason = window.prompt('Why should staff look at this post?') ?? '';
        void this.client
          .requestAPI(`${postPath}/flags`, { method: 'POST', body: JSON.stringify({ reason }) })
          .then(() => { flagged.textContent = 'Flagged for staff. Thank you.'; })
          .catch(e => { flagged.textContent = e.message; });
      }));
    }
    if (post.mine && !post.deleted && !this.thread.locked) {
      // The text being edited lives in the shared state: a redraw (someone's reply) keeps
      // the editor open with it, until Save or Cancel.
      const editing = this.state.editing;
      const edit = () => {
        body.replaceChildren(
          composeBox(this.rendermime, {
            label: 'Edit your post',
            testid: 'cl-edit',
            withKind: false,
            draft: editing.get(post.id) ?? post.body ?? '',
            onDraft: text => editing.set(post.id, text),
            submitLabel: 'Save',
            onSubmit: async ({ body: text }) => {
              editing.delete(post.id);
              try {
                await this.act(postPath, 'PATCH', { body: text });
              } catch (reason) {
                editing.set(post.id, text);
                throw reason;
              }
            },
            onCancel: () => {
              editing.delete(post.id);
              this.render();
            }
          })
        );
      };
      tools.append(button('Edit', 'cl-edit-post', () => {
        editing.set(post.id, editing.get(post.id) ?? post.body ?? '');
        edit();
        body.querySelector('textarea')?.focus();
      }));
      if (editing.has(post.id)) {
        edit();
      }
    }
    if (post.mine && !post.deleted) {
      tools.append(button('Delete', 'cl-delete-post', () => {
        if (window.confirm('Delete this post? It will show as "deleted".')) {
          void this.act(postPath, 'DELETE');
        }
      }));
    }
    const flagged = el('span', { class: 'cl-Post-note', role: 'status' });
    item.append(meta, body, tools, flagged);
    // Earlier bodies: the author and staff only (the service answers 403 to others).
    if (post.edited_at && (post.mine || this.isStaff)) {
      const history = historyControl(this.client, this.rendermime, {
        course: this.thread.course,
        postId: post.id,
        open: this.state.histories
      });
      tools.append(history.button);
      item.append(history.region);
    }
    return item;
  }
}
