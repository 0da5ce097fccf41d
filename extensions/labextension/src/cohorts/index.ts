import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Clipboard } from '@jupyterlab/apputils';

import { asNotebookPanel, INotebookPanelLike } from '../discussions/notebook';
import { ICohortLabClient } from '../tokens';
import { CellAttribution } from './attribution';
import { cellLink, IWorkspaceInfo, workspaceInfo } from './info';
import { PresenceBar } from './presence';

const COPY_LINK = 'cohortlab:copy-cell-link';
const OPEN_CHAT = 'cohortlab:open-cohort-chat';

/**
 * In a cohort workspace only (its server answers `cohortlab/workspace`): who is here, who
 * last edited and ran each cell (the workspace server counts contributions itself, from
 * the connections it serves: nothing is reported from here), the cohort chat beside the notebook, and chat links to cells.
 */
export const workspacePlugin: JupyterFrontEndPlugin<void> = {
  id: 'cohortlab:workspace',
  description: 'Presence, cell attribution and the cohort chat in a cohort workspace.',
  autoStart: true,
  requires: [ICohortLabClient, ILabShell],
  activate: async (app: JupyterFrontEnd, _client: ICohortLabClient, shell: ILabShell) => {
    let info: IWorkspaceInfo | null;
    try {
      info = await workspaceInfo();
    } catch {
      info = null;
    }
    if (!info) {
      return; // not a cohort workspace
    }
    const chat = info.chat;
    app.commands.addCommand(OPEN_CHAT, {
      label: 'Open the cohort chat',
      isEnabled: () => !!chat,
      execute: args => {
        if (!chat) {
          return;
        }
        const open = [...shell.widgets('main')].find(w => (w as any).context?.path === chat);
        if (open) {
          shell.activateById(open.id);
          return;
        }
        // Beside the notebook in view (or the current widget), without taking the focus
        // from it when opened on its own.
        const ref = (args.ref as string | undefined) ?? shell.currentWidget?.id;
        const options = { mode: 'split-right', ref, activate: args.activate !== false };
        return app.commands.execute('docmanager:open', { path: chat, options });
      }
    });
    app.commands.addCommand(COPY_LINK, {
      label: 'Copy a chat link to this cell',
      caption: 'A Markdown link that opens this notebook at this cell, to paste in the chat',
      execute: () => {
        const panel = asNotebookPanel(shell.currentWidget);
        const cell = panel?.content.activeCell;
        if (!panel || !cell) {
          return;
        }
        const index = panel.content.widgets.indexOf(cell) + 1;
        const file = panel.context.path.split('/').pop() ?? panel.context.path;
        Clipboard.copyToSystem(cellLink(panel.context.path, cell.model.id, `${file}, cell ${index}`));
      }
    });
    app.contextMenu.addItem({ command: COPY_LINK, selector: '.jp-Notebook .jp-Cell', rank: 20 });

    const bar = new PresenceBar(() => void app.commands.execute(OPEN_CHAT));
    shell.add(bar, 'top', { rank: 900 });
    const attribution = new CellAttribution(latest => bar.update_(latest));
    bar.update_(info);

    // The chat beside the first notebook this browser opens in the workspace.
    const chatKey = `cohortlab:chat-opened:${chat}`;
    const openChatBeside = (ref: string) => {
      if (chat && !window.localStorage.getItem(chatKey)) {
        window.localStorage.setItem(chatKey, '1');
        void app.commands.execute(OPEN_CHAT, { ref, activate: false });
      }
    };
    // Attribution follows the notebook in view, and stays on it while another kind of
    // widget (the chat beside it, a console) is the current one.
    let last: INotebookPanelLike | null = null;
    const follow = () => {
      const current = asNotebookPanel(shell.currentWidget);
      if (current || last?.isDisposed) {
        last = current;
      }
      const panel = last;
      if (current && panel) {
        void panel.context.ready.then(() => {
          openChatBeside(panel.id);
        });
      }
      attribution.follow(panel);
    };
    shell.currentChanged.connect(follow);
    void app.restored.then(follow); // never awaited here: activation would wait on itself
    attribution.start();
  }
};
