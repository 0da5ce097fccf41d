import { ILabShell } from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import { IMe, ICohortLabClient, ICohortLabEvent } from '../tokens';
import { CellBadges } from './badges';
import { composeBox, IComposed } from './compose';
import {
  asNotebookPanel,
  cellKey,
  INotebookPanelLike,
  notebookScope,
  stampNotebookKey
} from './notebook';
import { fingerprint, placeThreads } from './anchor';
import { Inbox } from './inbox';
import { el } from './render';
import { ThreadView } from './threadView';
import { IScope, IThread } from './types';

const REFRESH_DELAY_MS = 150;

/**
 * The right-side discussion panel: the active cell's threads, then the notebook's, then
 * the course Q&A. It follows the current notebook and active cell, and refreshes when
 * the service's event stream says a thread it shows (or could show) changed.
 */
export class DiscussionPanel extends Widget {
  constructor(
    private readonly client: ICohortLabClient,
    private readonly rendermime: IRenderMimeRegistry,
    private readonly shell: ILabShell
  ) {
    super();
    this.id = 'cohortlab-discussion';
    this.addClass('cl-Discussion');
    this.title.caption = 'Discussion';
    this.title.label = 'Discussion';
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'Discussion');
    this.node.dataset.testid = 'cl-discussion-panel';
    this.badges = new CellBadges(client, cell => this.focusCell(cell));
    this.inbox = new Inbox(client, (course, id) => void this.openById(course, id));
    this.search = el('input', {
      type: 'search',
      class: 'cl-Discussion-search',
      placeholder: 'Search the course’s threads',
      'aria-label': 'Search the course’s threads'
    });
    this.search.dataset.testid = 'cl-search';
    this.search.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        this.query = this.search.value.trim();
        void this.refresh();
      }
    });
    shell.currentChanged.connect(() => this.followNotebook(), this);
    client.events.connect(this.onEvent, this);
    // Events sent while the stream was down are not replayed: catch up on reconnecting.
    client.connectionChanged.connect((_, state) => {
      if (state === 'connected' && this.rendered) {
        this.scheduleRefresh();
      }
    }, this);
    void this.start();
  }

  private async start(): Promise<void> {
    try {
      this.me = await this.client.requestAPI<IMe>('me');
    } catch (reason) {
      this.showError(reason);
      return;
    }
    this.followNotebook();
  }

  private followNotebook(): void {
    const panel = asNotebookPanel(this.shell.currentWidget);
    if (panel === this.notebook && panel !== null) {
      return;
    }
    if (this.notebook === null && panel === null && this.rendered) {
      return;
    }
    this.notebook?.content.activeCellChanged.disconnect(this.scheduleRefresh, this);
    this.notebook = panel;
    panel?.content.activeCellChanged.connect(this.scheduleRefresh, this);
    if (panel) {
      void panel.context.ready.then(() => this.scheduleRefresh());
    } else {
      this.scheduleRefresh();
    }
  }

  private focusCell(index: number): void {
    const content = this.notebook?.content as any;
    if (content) {
      content.activeCellIndex = index;
    }
    this.shell.activateById(this.id);
  }

  private onEvent(_: ICohortLabClient, event: ICohortLabEvent): void {
    if (event.type === 'discussion' && this.scope && event.course === this.scope.course) {
      this.scheduleRefresh();
    }
  }

  private scheduleRefresh(): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.refresh(), REFRESH_DELAY_MS);
  }

  private currentScope(): IScope | null {
    const courses = (this.me?.courses ?? []).map(c => c.id);
    if (courses.length === 0) {
      return null;
    }
    const panel = this.notebook;
    if (!panel) {
      return { course: courses[0], notebookKey: null, cellKey: null };
    }
    const scope = notebookScope(panel, courses);
    if (!scope) {
      return null;
    }
    const cell = panel.content.activeCell;
    return {
      course: scope.course,
      notebookKey: scope.notebookKey,
      cellKey: cell ? cellKey(cell) : null
    };
  }

  async refresh(): Promise<void> {
    this.rendered = true;
    // Refreshes overlap when events arrive close together; only the newest may render,
    // or an older, slower answer would overwrite newer threads.
    const generation = ++this.generation;
    const scope = (this.scope = this.currentScope());
    if (!this.me) {
      return;
    }
    if (!scope) {
      this.node.replaceChildren(
        this.header(),
        el('p', { class: 'cl-Discussion-empty' },
          this.me.courses.length
            ? 'This notebook is not part of a course you are in.'
            : 'You are not enrolled in any course yet.')
      );
      this.badges.detach();
      this.signature = '';
      return;
    }
    const base = `courses/${encodeURIComponent(scope.course)}/threads`;
    try {
      const [cell, notebook, qa] = await Promise.all([
        scope.notebookKey && scope.cellKey
          ? this.list(`${base}?notebook_key=${q(scope.notebookKey)}&cell_key=${q(scope.cellKey)}`)
          : Promise.resolve([]),
        scope.notebookKey
          ? this.list(`${base}?notebook_key=${q(scope.notebookKey)}`)
          : Promise.resolve([]),
        this.list(`${base}?scope=course`)
      ]);
      const found = this.query
        ? await this.list(`${base}?scope=all&q=${q(this.query)}`)
        : null;
      if (generation !== this.generation) {
        return;
      }
      const cellIds = new Set(cell.map(t => t.id));
      this.marks = this.notebook ? await placeThreads(this.notebook, notebook) : new Map();
      if (generation !== this.generation) {
        return;
      }
      // Nothing changed (an event about another cell, say): keep the DOM, focus and all.
      const signature = JSON.stringify([scope, cell, notebook, qa, found, [...this.marks]]);
      if (signature !== this.signature) {
        this.signature = signature;
        this.render(scope, cell, notebook.filter(t => !cellIds.has(t.id)), qa, found);
      } else {
        for (const view of this.views) {
          if (this.expanded.has(view.id)) {
            void view.reload();
          }
        }
      }
      if (this.notebook && scope.notebookKey) {
        await this.badges.update(this.notebook, scope.course, scope.notebookKey);
      }
    } catch (reason) {
      this.showError(reason);
    }
  }

  private async members(course: string, prefix: string): Promise<{ name: string; role: string }[]> {
    const found = await this.client.requestAPI<{ members: { name: string; role: string }[] }>(
      `courses/${encodeURIComponent(course)}/members?q=${encodeURIComponent(prefix)}`
    );
    return found.members;
  }

  private myCohorts(course: string): string[] {
    return (this.me?.cohorts ?? []).filter(c => c.course === course).map(c => c.name);
  }

  private isStaff(course: string): boolean {
    const role = this.me?.courses.find(c => c.id === course)?.role;
    return role === 'instructor' || role === 'mentor';
  }

  private async list(path: string): Promise<IThread[]> {
    return (await this.client.requestAPI<{ threads: IThread[] }>(path)).threads;
  }

  private header(): HTMLElement {
    const head = el('div', { class: 'cl-Discussion-head' });
    head.append(el('h2', {}, 'Discussion'), this.inbox.node);
    return head;
  }

  /** Open a thread named by a notification: select its cell if it is in this notebook. */
  private async openById(course: string, threadId: number): Promise<void> {
    this.shell.activateById(this.id);
    const thread = await this.client.requestAPI<IThread>(
      `courses/${encodeURIComponent(course)}/threads/${threadId}`
    );
    const panel = this.notebook;
    if (panel && thread.cell_key && this.scope?.notebookKey === thread.notebook_key) {
      const index = panel.content.widgets.findIndex(c => cellKey(c) === thread.cell_key);
      if (index >= 0) {
        this.focusCell(index);
      }
    }
    this.expanded.add(threadId);
    await this.refresh();
  }

  private render(scope: IScope, cell: IThread[], notebook: IThread[], qa: IThread[],
                 found: IThread[] | null): void {
    // Which threads are open is the panel's state, not the DOM's: a view that is still
    // loading its posts when the next refresh comes must stay open.
    const open = this.expanded;
    this.views = [];
    const sections: HTMLElement[] = [this.header(), this.search];
    if (found !== null) {
      sections.push(this.section(`Search: ${this.query}`, 'cl-search-results', found, open,
        'No thread matches.'));
    }
    if (this.notebook && scope.notebookKey !== undefined) {
      const cellSection = this.section('This cell', 'cl-cell-threads', cell, open,
        scope.cellKey ? 'No threads on this cell yet. Start one below.' : 'Select a cell.');
      cellSection.dataset.cellKey = scope.cellKey ?? '';
      sections.push(cellSection);
      if (scope.cellKey) {
        sections.push(composeBox(this.rendermime, {
          label: 'Start a thread on this cell',
          testid: 'cl-compose',
          withKind: true,
          cohorts: this.myCohorts(scope.course),
          draft: this.draft,
          onDraft: text => (this.draft = text),
          members: prefix => this.members(scope.course, prefix),
          onSubmit: c => this.openThread(scope, c, true)
        }));
      }
      sections.push(this.section('This notebook', 'cl-notebook-threads', notebook, open,
        'No other threads in this notebook.'));
    }
    sections.push(this.section('Course Q&A', 'cl-course-threads', qa, open,
      'No questions yet. Ask the first one.'));
    if (!this.notebook) {
      sections.push(composeBox(this.rendermime, {
        label: 'Ask the course',
        testid: 'cl-ask',
        withKind: true,
        cohorts: this.myCohorts(scope.course),
        members: prefix => this.members(scope.course, prefix),
        onSubmit: c => this.openThread(scope, c, false)
      }));
    }
    this.node.replaceChildren(...sections);
  }

  private section(
    title: string, testid: string, threads: IThread[], open: Set<number>, empty: string
  ): HTMLElement {
    const section = el('section', { 'aria-label': title });
    section.dataset.testid = testid;
    section.append(el('h3', {}, title));
    if (threads.length === 0) {
      section.append(el('p', { class: 'cl-Discussion-empty' }, empty));
      return section;
    }
    const list = el('ul', { class: 'cl-Discussion-list' });
    for (const thread of threads) {
      const view = new ThreadView(this.client, this.rendermime, thread,
        () => this.scheduleRefresh(), this.isStaff(thread.course), false,
        (id, isOpen) => (isOpen ? this.expanded.add(id) : this.expanded.delete(id)),
        this.marks.get(thread.id) ?? null, this.replyDrafts);
      this.views.push(view);
      list.append(view.node);
      if (open.has(thread.id)) {
        void view.toggle(true);
      }
    }
    section.append(list);
    return section;
  }

  private async openThread(rendered: IScope, c: IComposed, onCell: boolean): Promise<void> {
    // The cell active now, not when the form was drawn: key and anchor must agree.
    const scope = (onCell && this.currentScope()) || rendered;
    let notebookKey = scope.notebookKey;
    if (onCell && !notebookKey && this.notebook) {
      notebookKey = stampNotebookKey(this.notebook, scope.course);
      await (this.notebook.context as any).save?.();
    }
    const content = this.notebook?.content;
    const index = content && content.activeCell ? content.widgets.indexOf(content.activeCell) : -1;
    const anchor = onCell && content && index >= 0
      ? await fingerprint(content.widgets, index)
      : undefined;
    const thread = await this.client.requestAPI<IThread>(
      `courses/${encodeURIComponent(scope.course)}/threads`,
      {
        method: 'POST',
        body: JSON.stringify({
          body: c.body,
          kind: c.kind,
          anonymous: c.anonymous,
          visibility: c.audience.startsWith('cohort:') ? 'cohort' : c.audience,
          ...(c.audience.startsWith('cohort:') ? { cohort: c.audience.slice(7) } : {}),
          ...(onCell ? { notebook_key: notebookKey, cell_key: scope.cellKey, anchor } : {})
        })
      }
    );
    this.draft = '';
    // Open it in whichever refresh draws next: an overlapping refresh may supersede this one.
    this.expanded.add(thread.id);
    await this.refresh();
  }

  private showError(reason: unknown): void {
    const message = reason instanceof Error ? reason.message : String(reason);
    this.signature = '';
    const alert = el('div', { class: 'cl-Panel-error', role: 'alert' }, message);
    alert.dataset.testid = 'cl-discussion-error';
    this.node.replaceChildren(this.header(), alert);
  }

  private me: IMe | null = null;
  private notebook: INotebookPanelLike | null = null;
  private scope: IScope | null = null;
  private views: ThreadView[] = [];
  private timer = 0;
  private rendered = false;
  private badges: CellBadges;
  private inbox: Inbox;
  private search: HTMLInputElement;
  private query = '';
  private generation = 0;
  private expanded = new Set<number>();
  private marks = new Map<number, string>();
  private draft = '';
  private replyDrafts = new Map<number, string>();
  private signature = '';
}

function q(value: string): string {
  return encodeURIComponent(value);
}
