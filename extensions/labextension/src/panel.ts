import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { CohortLabError } from './errors';
import { ConnectionState, ICohortLabClient, IMe, IServiceInfo, ITransportConfig } from './tokens';
import { versionMismatch } from './version';
import { WorkspaceOpener } from './workspace';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
<g class="jp-icon3" fill="#616161">
<circle cx="12" cy="6" r="3"/><circle cx="5" cy="17" r="3"/><circle cx="19" cy="17" r="3"/>
<path d="M11 9h2v3.2l4.6 2.7-1 1.7L12 14l-4.6 2.6-1-1.7L11 12.2z"/></g></svg>`;

export const cohortLabIcon = new LabIcon({ name: 'cohortlab:icon', svgstr: ICON_SVG });

const ROLE_LABELS: Record<string, string> = {
  instructor: 'instructor',
  mentor: 'mentor',
  learner: 'learner'
};

type State =
  | { kind: 'loading' }
  | { kind: 'ready'; me: IMe; info: IServiceInfo; transport: ITransportConfig }
  | {
      kind: 'error';
      error: CohortLabError;
      info: IServiceInfo | null;
      transport: ITransportConfig | null;
    };

/**
 * The left-side "CohortLab" panel: who I am, my courses and role in each, my
 * cohorts, and whether the service is reachable. Failures are shown here, never
 * swallowed and never in a modal: JupyterLab keeps working without the service.
 */
export class CohortLabPanel extends Widget {
  constructor(private readonly client: ICohortLabClient) {
    super();
    this.id = 'cohortlab-panel';
    this.addClass('cl-Panel');
    this.title.icon = cohortLabIcon;
    this.title.caption = 'CohortLab';
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'CohortLab');
    client.connectionChanged.connect(this._renderConnection, this);
    this._render();
    void this.refresh();
  }

  /** Ask the service again; the Retry button and panel activation call this. */
  async refresh(): Promise<void> {
    this._state = { kind: 'loading' };
    this._render();
    let transport: ITransportConfig | null = null;
    let info: IServiceInfo | null = null;
    try {
      transport = await this.client.transport;
      // One after the other, so a version mismatch is still shown when /me fails.
      info = await this.client.requestAPI<IServiceInfo>('');
      const me = await this.client.requestAPI<IMe>('me');
      this._state = { kind: 'ready', me, info, transport };
    } catch (reason) {
      const error =
        reason instanceof CohortLabError ? reason : CohortLabError.network(reason);
      this._state = { kind: 'error', error, info, transport };
    }
    this._render();
  }

  private _render(): void {
    const node = this.node;
    this._liveNode = null;
    node.replaceChildren();
    node.setAttribute('aria-busy', String(this._state.kind === 'loading'));
    node.append(el('h2', { class: 'cl-Panel-title' }, 'CohortLab'));

    const status = el('p', { class: 'cl-Panel-status', role: 'status', 'aria-live': 'polite' });
    status.dataset.testid = 'cl-service-status';
    node.append(status);

    const state = this._state;
    if (state.kind === 'loading') {
      status.dataset.state = 'loading';
      status.textContent = 'Loading…';
      return;
    }
    const transport = state.transport;
    if (transport?.fallback_reason) {
      node.append(el('p', { class: 'cl-Panel-note' }, transport.fallback_reason));
    }
    const mismatch = versionMismatch(state.info?.version ?? null, transport?.version ?? null);
    if (mismatch) {
      const warning = el('div', { class: 'cl-Panel-warning', role: 'alert' }, mismatch);
      warning.dataset.testid = 'cl-version-warning';
      node.append(warning);
    }
    if (state.kind === 'error') {
      status.dataset.state = 'error';
      status.textContent = 'CohortLab is not available right now.';
      // The alert below carries the message; the status line must not repeat it aloud.
      status.removeAttribute('aria-live');
      status.removeAttribute('role');
      const error = el('div', { class: 'cl-Panel-error', role: 'alert' }, state.error.message);
      error.dataset.testid = 'cl-error';
      node.append(error, this._liveLine(), this._retryButton());
      this._renderConnection(this.client, this.client.connectionState);
      return;
    }

    const { me, info } = state;
    status.dataset.state = 'ok';
    status.textContent = `Connected to CohortLab service v${info.version}`;

    const who = el('section', { 'aria-labelledby': 'cl-who' });
    const name = el('p', { class: 'cl-Panel-name' }, me.name);
    name.dataset.testid = 'cl-user-name';
    who.append(el('h3', { id: 'cl-who' }, 'Signed in as'), name);

    const courses = el('section', { 'aria-labelledby': 'cl-courses' });
    courses.append(el('h3', { id: 'cl-courses' }, 'My courses'));
    if (me.courses.length === 0) {
      courses.append(el('p', { class: 'cl-Panel-empty' }, 'You are not enrolled in any course yet.'));
    } else {
      const list = el('ul', { class: 'cl-Panel-list' });
      for (const course of me.courses) {
        const item = el('li', {}, `${course.id} — ${ROLE_LABELS[course.role] ?? course.role}`);
        Object.assign(item.dataset, { testid: 'cl-course', course: course.id, role: course.role });
        list.append(item);
      }
      courses.append(list);
    }

    const cohorts = el('section', { 'aria-labelledby': 'cl-cohorts' });
    cohorts.append(el('h3', { id: 'cl-cohorts' }, 'My cohorts'));
    if (me.cohorts.length === 0) {
      cohorts.append(el('p', { class: 'cl-Panel-empty' }, 'You are not in a cohort.'));
    } else {
      const list = el('ul', { class: 'cl-Panel-list' });
      for (const cohort of me.cohorts) {
        const item = el('li', {}, `${cohort.course} · ${cohort.name}`);
        Object.assign(item.dataset, {
          testid: 'cl-cohort',
          course: cohort.course,
          cohort: cohort.name
        });
        item.append(new WorkspaceOpener(this.client, cohort).node);
        list.append(item);
      }
      cohorts.append(list);
    }

    node.append(who, courses, cohorts, this._liveLine(), this._retryButton('Refresh'));
    this._renderConnection(this.client, this.client.connectionState);
  }

  private _liveLine(): HTMLElement {
    const live = el('p', { class: 'cl-Panel-live', role: 'status', 'aria-live': 'polite' });
    live.dataset.testid = 'cl-events-status';
    this._liveNode = live;
    return live;
  }

  private _renderConnection(_: ICohortLabClient, state: ConnectionState): void {
    const live = this._liveNode;
    if (!live) {
      return;
    }
    live.dataset.state = state === 'connected' ? 'connected' : 'disconnected';
    live.textContent =
      state === 'connected'
        ? 'Live updates: connected'
        : state === 'connecting'
          ? 'Live updates: connecting…'
          : 'Live updates: disconnected (retrying)';
  }

  private _retryButton(label = 'Retry'): HTMLButtonElement {
    const button = el('button', { class: 'jp-Button cl-Panel-button', type: 'button' }, label);
    button.addEventListener('click', () => void this.refresh());
    return button as HTMLButtonElement;
  }

  private _state: State = { kind: 'loading' };
  private _liveNode: HTMLElement | null = null;
}

function el(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    node.setAttribute(key, value);
  }
  if (text !== undefined) {
    node.textContent = text; // user text is text, never HTML
  }
  return node;
}
