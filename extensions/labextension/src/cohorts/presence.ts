import { Widget } from '@lumino/widgets';

import { IWorkspaceInfo, names } from './info';

/**
 * The workspace's bar: which cohort this is, who has it open now (from the workspace
 * server's authenticated connections, so the names are the people's hub names), and a
 * button that opens the cohort chat beside the notebook.
 */
export class PresenceBar extends Widget {
  constructor(private readonly openChat: () => void) {
    super();
    this.id = 'cohortlab-workspace-bar';
    this.addClass('cl-WorkspaceBar');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'Cohort workspace');
    this._label = document.createElement('span');
    this._label.className = 'cl-WorkspaceBar-cohort';
    this._present = document.createElement('span');
    this._present.className = 'cl-WorkspaceBar-present';
    this._present.dataset.testid = 'cl-presence';
    this._present.setAttribute('role', 'status');
    this._present.setAttribute('aria-live', 'polite');
    this._chat = document.createElement('button');
    this._chat.type = 'button';
    this._chat.className = 'jp-Button cl-Panel-button';
    this._chat.textContent = 'Cohort chat';
    this._chat.dataset.testid = 'cl-open-chat';
    this._chat.setAttribute('aria-label', 'Open the cohort chat beside the notebook');
    this._chat.addEventListener('click', () => this.openChat());
    this.node.append(this._label, this._present, this._chat);
  }

  update_(info: IWorkspaceInfo): void {
    const label = info.cohort ? `Cohort ${info.course} · ${info.cohort}` : 'Cohort workspace';
    if (this._label.textContent !== label) {
      this._label.textContent = label;
    }
    const others = info.present.filter(name => name !== info.me);
    const text = others.length ? `Here now: you and ${names(others)}` : 'Here now: only you';
    if (this._present.textContent !== text) {
      this._present.textContent = text;
      this._present.dataset.present = info.present.join(',');
    }
    this._chat.hidden = !info.chat;
  }

  private _label: HTMLElement;
  private _present: HTMLElement;
  private _chat: HTMLButtonElement;
}
