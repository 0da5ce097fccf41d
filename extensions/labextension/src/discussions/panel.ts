import { ILabShell, JupyterFrontEnd } from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import { IMe, ICohortLabClient, ICohortLabEvent } from '../tokens';
import { CellBadges } from './badges';
import { composeBox, freshChoices, IComposed } from './compose';
import {
  asNotebookPanel,
  cellKey,
  INotebookPanelLike,
  notebookScope
} from './notebook';
import { placeThreads } from './anchor';
import { createThread } from './create';
import { FlagList } from './flags';
import { Inbox } from './inbox';
import {
  findNotebookFile,
  findOpenNotebook,
  openNotebookFile,
  selectCell,
  selectThreadCell
} from './jump';
import { moveTargetsIn } from './move';
import { el, errorText, focusMark, IFocusMark } from './render';
import { awaySection, categoryControl, IAway, noticeLine } from './sections';
import { ThreadView } from './threadView';
import { IMoveDraft, IScope, IThread, IViewState } from './types';

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
    private readonly shell: ILabShell,
    /** For opening a thread's notebook: the document manager's command, the contents. */
    private readonly app: JupyterFrontEnd
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
    this.categoryFilter = el('select', {
      class: 'cl-Discussion-filter',
      'aria-label': 'Show course Q&A of one category'
    });
    this.categoryFilter.dataset.testid = 'cl-category-filter';
    this.categoryFilter.addEventListener('change', () => {
      this.category = this.categoryFilter.value;
      void this.refresh();
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
    if (this.notebook) {
      selectCell(this.notebook, index);
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
    if (this.away && this.away.thread.course === scope.course
        && this.away.thread.notebook_key === scope.notebookKey) {
      this.away = null; // its notebook is the current one now: the thread shows in place
    }
    try {
      const [cell, notebook, qaAll, qaOfCategory] = await Promise.all([
        scope.notebookKey && scope.cellKey
          ? this.list(`${base}?notebook_key=${q(scope.notebookKey)}&cell_key=${q(scope.cellKey)}`)
          : Promise.resolve([]),
        scope.notebookKey
          ? this.list(`${base}?notebook_key=${q(scope.notebookKey)}`)
          : Promise.resolve([]),
        this.list(`${base}?scope=course`),
        this.category
          ? this.list(`${base}?scope=course&category=${q(this.category)}`)
          : Promise.resolve(null)
      ]);
      const qa = qaOfCategory ?? qaAll;
      const categories = [...new Set(qaAll.map(t => t.category ?? '').filter(Boolean))].sort();
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
      const signature = JSON.stringify([scope, cell, notebook, qa, found, [...this.marks],
        this.category, categories, this.away?.thread.id, this.away?.path, this.notice]);
      if (signature !== this.signature) {
        this.signature = signature;
        this.render(scope, cell, notebook.filter(t => !cellIds.has(t.id)), qa, found, categories);
      } else {
        for (const view of this.views) {
          if (this.expanded.has(view.id)) {
            // opened since the last redraw (from a notification, say) or already open
            void (view.isExpanded ? view.reload() : view.toggle(true));
          }
        }
      }
      this.takeFocus();
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
    const tools = el('div', { class: 'cl-Discussion-tools' });
    const flags = this.flagList();
    if (flags) {
      tools.append(flags.toggleButton);
    }
    tools.append(this.inbox.node);
    head.append(el('h2', {}, 'Discussion'), tools, ...(flags ? [flags.region] : []));
    return head;
  }

  /** Staff's flag list for the course in view; none for learners. */
  private flagList(): FlagList | null {
    const course = this.scope?.course;
    if (!course || !this.isStaff(course)) {
      this.flags?.dispose();
      this.flags = null;
    } else if (this.flags?.course !== course) {
      this.flags?.dispose();
      this.flags = new FlagList(this.client, course, (c, id) => void this.openById(c, id));
    }
    return this.flags;
  }

  /**
   * Open a thread named by a notification or a flag. Its notebook is open here: show
   * that notebook and select the thread's cell. Not open: show the thread in the panel
   * anyway, saying which notebook it is on (with a button to open the notebook when its
   * file is found). Course Q&A: open it in the Q&A section.
   */
  private async openById(course: string, threadId: number): Promise<void> {
    this.shell.activateById(this.id);
    this.notice = '';
    let thread: IThread;
    try {
      thread = await this.client.requestAPI<IThread>(
        `courses/${encodeURIComponent(course)}/threads/${threadId}`
      );
    } catch (reason) {
      this.notice = `Could not open the thread: ${errorText(reason)}`;
      await this.refresh();
      return;
    }
    this.expanded.add(thread.id);
    this.pendingFocus = { id: thread.id, mark: null };
    const courses = (this.me?.courses ?? []).map(c => c.id);
    const panel = thread.notebook_key ? findOpenNotebook(this.shell, thread, courses) : null;
    if (panel) {
      this.away = null;
      this.showInNotebook(panel, thread);
    } else if (!thread.notebook_key && thread.course === this.scope?.course) {
      this.away = null;
      if (this.category && thread.category !== this.category) {
        this.category = ''; // the filter would hide it
      }
    } else {
      this.away = { thread, path: await findNotebookFile(this.app, thread) };
    }
    await this.refresh();
  }

  /** Make a notebook the current one, select the thread's cell, keep this panel shown. */
  private showInNotebook(panel: INotebookPanelLike, thread: IThread): void {
    if (this.shell.currentWidget !== panel) {
      this.shell.activateById(panel.id);
    }
    this.followNotebook();
    selectThreadCell(panel, thread);
    this.shell.activateById(this.id);
  }

  private async openAwayNotebook(away: IAway): Promise<void> {
    if (!away.path) {
      return;
    }
    this.notice = '';
    try {
      const panel = await openNotebookFile(this.app, away.path);
      const courses = (this.me?.courses ?? []).map(c => c.id);
      if (notebookScope(panel, courses)?.notebookKey !== away.thread.notebook_key) {
        throw new Error(`${away.path} is not the notebook this thread is on.`);
      }
      this.away = null;
      this.expanded.add(away.thread.id);
      this.pendingFocus = { id: away.thread.id, mark: null };
      this.showInNotebook(panel, away.thread);
    } catch (reason) {
      this.notice = `Could not open ${away.path}: ${errorText(reason)}`;
    }
    await this.refresh();
  }

  /** Put focus on a thread just opened, or back where it was before a redraw. */
  private takeFocus(): void {
    const wanted = this.pendingFocus;
    this.pendingFocus = null;
    const view = wanted ? this.views.find(v => v.id === wanted.id) : undefined;
    if (wanted && view) {
      view.focus(wanted.mark);
      view.node.scrollIntoView({ block: 'nearest' });
    }
  }

  private render(scope: IScope, cell: IThread[], notebook: IThread[], qa: IThread[],
                 found: IThread[] | null, categories: string[]): void {
    // Which threads are open is the panel's state, not the DOM's: a view that is still
    // loading its posts when the next refresh comes must stay open.
    const open = this.expanded;
    // A redraw must not drop keyboard focus: the same control again, in its thread.
    const focused = document.activeElement;
    const threadNode = focused && this.node.contains(focused)
      ? (focused.closest('[data-thread-id]') as HTMLElement | null)
      : null;
    const threadMark = threadNode ? focusMark(threadNode) : null;
    this.views = [];
    const sections: HTMLElement[] = [this.header()];
    if (this.notice) {
      sections.push(noticeLine(this.notice, () => {
        this.notice = '';
        void this.refresh();
        this.search.focus();
      }));
    }
    sections.push(this.search);
    if (this.away) {
      const away = this.away;
      sections.push(awaySection(away, {
        threadNode: this.threadView(away.thread, this.expanded).node,
        onOpen: () => void this.openAwayNotebook(away),
        onClose: () => {
          this.away = null;
          void this.refresh();
          this.search.focus();
        }
      }));
    }
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
          isStaff: this.isStaff(scope.course),
          draft: this.draft,
          onDraft: text => (this.draft = text),
          choices: this.choices,
          members: prefix => this.members(scope.course, prefix),
          onSubmit: c => this.openThread(scope, c, true)
        }));
      }
      sections.push(this.section('This notebook', 'cl-notebook-threads', notebook, open,
        'No other threads in this notebook.'));
    }
    sections.push(this.section('Course Q&A', 'cl-course-threads', qa, open,
      this.category
        ? `No questions in the category “${this.category}”.`
        : 'No questions yet. Ask the first one.',
      categoryControl(this.categoryFilter, categories, this.category)));
    sections.push(composeBox(this.rendermime, {
      label: 'Ask the course',
      testid: 'cl-ask',
      withKind: true,
      cohorts: this.myCohorts(scope.course),
      isStaff: this.isStaff(scope.course),
      categories,
      draft: this.askDraft,
      onDraft: text => (this.askDraft = text),
      choices: this.askChoices,
      members: prefix => this.members(scope.course, prefix),
      onSubmit: c => this.openThread(scope, c, false)
    }));
    this.node.replaceChildren(...sections);
    if (focused instanceof HTMLElement && this.node.contains(focused)) {
      focused.focus(); // a kept element (search, filter, inbox) was moved: it lost focus
    } else if (threadNode && this.pendingFocus === null) {
      this.pendingFocus = { id: Number(threadNode.dataset.threadId), mark: threadMark };
    }
  }

  private section(
    title: string, testid: string, threads: IThread[], open: Set<number>, empty: string,
    controls: HTMLElement[] = []
  ): HTMLElement {
    const section = el('section', { 'aria-label': title });
    section.dataset.testid = testid;
    section.append(el('h3', {}, title), ...controls);
    if (threads.length === 0) {
      section.append(el('p', { class: 'cl-Discussion-empty' }, empty));
      return section;
    }
    const list = el('ul', { class: 'cl-Discussion-list', 'aria-label': `Threads: ${title}` });
    for (const thread of threads) {
      list.append(this.threadView(thread, open).node);
    }
    section.append(list);
    return section;
  }

  private threadView(thread: IThread, open: Set<number>): ThreadView {
    const view = new ThreadView(this.client, this.rendermime, thread, {
      onChanged: () => this.scheduleRefresh(),
      isStaff: this.isStaff(thread.course),
      onToggle: (id, isOpen) => (isOpen ? this.expanded.add(id) : this.expanded.delete(id)),
      placement: this.marks.get(thread.id) ?? null,
      state: this.state,
      moveTargets: () => moveTargetsIn(this.notebook, this.currentScope(), thread.course)
    });
    this.views.push(view);
    if (open.has(thread.id)) {
      void view.toggle(true);
    }
    return view;
  }

  private async openThread(rendered: IScope, c: IComposed, onCell: boolean): Promise<void> {
    const thread = await createThread({
      client: this.client,
      notebook: this.notebook,
      rendered,
      currentScope: () => this.currentScope(),
      composed: c,
      onCell
    });
    if (onCell) {
      this.draft = '';
      this.choices = freshChoices();
    } else {
      this.askDraft = '';
      this.askChoices = freshChoices();
      if (this.category && thread.category !== this.category) {
        this.category = ''; // the filter would hide the new thread
      }
    }
    this.pendingFocus = { id: thread.id, mark: null };
    // Open it in whichever refresh draws next: an overlapping refresh may supersede this one.
    this.expanded.add(thread.id);
    await this.refresh();
  }

  private showError(reason: unknown): void {
    const message = errorText(reason);
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
  private marks = new Map<number, string>();
  private draft = '';
  private askDraft = '';
  private choices = freshChoices();
  private askChoices = freshChoices();
  private state: IViewState = {
    expanded: new Set<number>(),
    drafts: new Map<number, string>(),
    histories: new Set<number>(),
    editing: new Map<number, string>(),
    moving: new Map<number, IMoveDraft>()
  };
  private expanded = this.state.expanded;
  private signature = '';
  private flags: FlagList | null = null;
  private categoryFilter: HTMLSelectElement;
  private category = '';
  private away: IAway | null = null;
  private notice = '';
  private pendingFocus: { id: number; mark: IFocusMark | null } | null = null;
}

function q(value: string): string {
  return encodeURIComponent(value);
}
