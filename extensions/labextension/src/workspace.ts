import { el } from './discussions/render';
import { CohortLabError } from './errors';
import { ICohort, ICohortLabClient } from './tokens';

/** `POST api/v1/courses/<course>/cohorts/<name>/workspace` → `{"workspace": ...}` */
export interface IWorkspace {
  course: string;
  cohort: string;
  account: string;
  url: string;
  state: 'ready' | 'starting';
  message: string;
  started: boolean;
}

/** Seconds the service waits for a starting server per call (its maximum is 25). */
const WAIT_SECONDS = 20;
/** Give up following a start after this long (the hub's own spawn timeout is 60 s). */
const GIVE_UP_MS = 120_000;

/**
 * "Open cohort workspace" for one cohort: asks the service to start the cohort's shared
 * server if needed, says so while it starts, and opens its JupyterLab in a new tab.
 *
 * The tab is opened at the click, blank, and pointed at the workspace once it is ready:
 * a cold start takes several seconds, longer than browsers let a click open a tab. On
 * failure the tab is closed and the service's message is shown with a "Start it" retry.
 */
export class WorkspaceOpener {
  constructor(
    private readonly client: ICohortLabClient,
    private readonly cohort: ICohort
  ) {
    const label = `${cohort.course} · ${cohort.name}`;
    this.node = el('div', { class: 'cl-Workspace' });
    this.node.dataset.testid = 'cl-workspace';
    this._button = this._makeButton(
      'Open cohort workspace',
      `Open the shared workspace of cohort ${label} in a new tab`
    );
    this._button.dataset.testid = 'cl-workspace-open';
    this._status = el('p', { class: 'cl-Workspace-status', role: 'status', 'aria-live': 'polite' });
    this._status.dataset.testid = 'cl-workspace-status';
    this._error = el('div', { class: 'cl-Panel-error', role: 'alert' });
    this._error.dataset.testid = 'cl-workspace-error';
    this._error.hidden = true;
    this._retry = this._makeButton('Start it', `Start the workspace of cohort ${label} again`);
    this._retry.dataset.testid = 'cl-workspace-retry';
    this._retry.hidden = true;
    this.node.append(this._button, this._status, this._error, this._retry);
  }

  readonly node: HTMLElement;

  /** Start (if needed) and open the workspace; the buttons call this. */
  async open(): Promise<void> {
    if (this._busy) {
      return;
    }
    this._setBusy(true);
    this._showError(null);
    const tab = openPendingTab();
    const path = [
      'courses',
      encodeURIComponent(this.cohort.course),
      'cohorts',
      encodeURIComponent(this.cohort.name),
      'workspace'
    ].join('/');
    const started = Date.now();
    try {
      let workspace = await this._request(path, 0);
      while (workspace.state === 'starting') {
        this._setStatus('starting', 'Starting the workspace…');
        if (Date.now() - started > GIVE_UP_MS) {
          throw new CohortLabError(
            504,
            'workspace_slow',
            'The workspace is taking too long to start. Start it again in a moment.'
          );
        }
        workspace = await this._request(path, WAIT_SECONDS);
      }
      this._setStatus('ready', 'The workspace is open in a new tab: ');
      const link = el('a', { href: workspace.url, target: '_blank', rel: 'noopener' }, 'go there');
      link.dataset.testid = 'cl-workspace-link';
      this._status.append(link);
      if (tab && !tab.closed) {
        tab.location.href = workspace.url;
      } else {
        window.open(workspace.url, '_blank', 'noopener');
      }
    } catch (reason) {
      tab?.close();
      const error = reason instanceof CohortLabError ? reason : CohortLabError.network(reason);
      this._setStatus('error', '');
      this._showError(error.message);
    } finally {
      this._setBusy(false);
    }
  }

  private async _request(path: string, wait: number): Promise<IWorkspace> {
    const reply = await this.client.requestAPI<{ workspace: IWorkspace }>(path, {
      method: 'POST',
      body: JSON.stringify({ wait })
    });
    return reply.workspace;
  }

  private _makeButton(text: string, label: string): HTMLButtonElement {
    const button = el(
      'button',
      { class: 'jp-Button cl-Panel-button', type: 'button', 'aria-label': label },
      text
    );
    button.addEventListener('click', () => void this.open());
    return button;
  }

  /** Busy buttons stay focusable (aria-disabled), so keyboard focus is not lost. */
  private _setBusy(busy: boolean): void {
    this._busy = busy;
    this.node.setAttribute('aria-busy', String(busy));
    for (const button of [this._button, this._retry]) {
      button.setAttribute('aria-disabled', String(busy));
    }
    if (busy) {
      this._setStatus('starting', 'Opening the workspace…');
    }
  }

  private _setStatus(state: string, text: string): void {
    this._status.dataset.state = state;
    this._status.textContent = text;
  }

  private _showError(message: string | null): void {
    this._error.hidden = message === null;
    this._error.textContent = message ?? '';
    this._retry.hidden = message === null;
  }

  private _busy = false;
  private _button: HTMLButtonElement;
  private _retry: HTMLButtonElement;
  private _status: HTMLElement;
  private _error: HTMLElement;
}

/** A blank tab, opened while the click still allows it, saying what is happening. */
function openPendingTab(): Window | null {
  const tab = window.open('', '_blank');
  if (!tab) {
    return null; // blocked: the workspace opens without a placeholder once ready
  }
  try {
    tab.opener = null;
    tab.document.title = 'Cohort workspace';
    tab.document.body.textContent = 'Starting the cohort workspace…';
  } catch {
    // not same-origin (should not happen for about:blank): leave it blank
  }
  return tab;
}
