import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Clipboard } from '@jupyterlab/apputils';

import { asNotebookPanel } from '../discussions/notebook';
import { ICohortLabClient } from '../tokens';
import { CellAttribution } from './attribution';
import { cellLink, IWorkspaceInfo, workspaceInfo } from './info';
import { PresenceBar } from './presence';
import { ActivityReporter } from './reporter';

const COPY_LINK = 'cohortlab:copy-cell-link';
const OPEN_CHAT = 'cohortlab:open-cohort-chat';

/**
 * In a cohort workspace only (its server answers `cohortlab/workspace`): who is here, who
 * last edited and ran each cell, my own contribution counts reported with my session,
 * the cohort chat beside the notebook, and chat links to cells.
 */
export const workspacePlugin: JupyterFrontEndPlugin<void> = {
  id: 'cohortlab:workspace',
  description: 'Presence, cell attribution and the cohort chat in a cohort workspace.',
  autoStart: true,
  requires: [ICohortLabClient, ILabShell],
  activate: async (app: JupyterFrontEnd, client: ICohortLabClient, shell: ILabShell) => {
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
      execute: () =>
        chat
          ? app.commands.execute('docmanager:open', { path: chat, options: { mode: 'split-right' } })
          : undefined
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
    const reporter =
      info.course && info.cohort ? new ActivityReporter(client, info.course, info.cohort) : null;

    const follow = () => {
      const panel = asNotebookPanel(shell.currentWidget);
      if (panel) {
        void panel.context.ready.then(() => reporter?.watch(panel));
      }
      attribution.follow(panel);
    };
    shell.currentChanged.connect(follow);
    follow();
    attribution.start();
    reporter?.start();

    // The chat beside the notebook the first time this browser opens the workspace.
    await app.restored;
    const key = `cohortlab:chat-opened:${chat}`;
    const open = [...shell.widgets('main')].some(w => (w as any).context?.path === chat);
    if (chat && !open && !window.localStorage.getItem(key)) {
      window.localStorage.setItem(key, '1');
      void app.commands.execute(OPEN_CHAT);
    }
  }
};
