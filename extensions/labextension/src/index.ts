import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { CohortLabClient } from './client';
import { workspacePlugin } from './cohorts';
import { workspaceTrustPlugin } from './untrusted';
import { DiscussionPanel } from './discussions/panel';
import { CohortLabPanel, cohortLabIcon } from './panel';
import { peerTextPlugin } from './peerText';
import { reviewPlugin } from './reviews/plugin';
import { ICohortLabClient } from './tokens';
import { widgetBridgePlugin } from './widgetBridge';
import { workspaceWidgetsPlugin } from './workspaceWidgets';

export { CohortLabError } from './errors';
export * from './tokens';

/** The client every CohortLab feature uses; never blocks or throws at activation. */
const clientPlugin: JupyterFrontEndPlugin<ICohortLabClient> = {
  id: 'cohortlab:client',
  description: 'The client for the CohortLab hub service.',
  autoStart: true,
  provides: ICohortLabClient,
  activate: (): ICohortLabClient => new CohortLabClient()
};

/** The left-side CohortLab panel. */
const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: 'cohortlab:panel',
  description: 'Shows who I am in CohortLab: courses, roles, cohorts, service status.',
  autoStart: true,
  requires: [ICohortLabClient],
  activate: (app: JupyterFrontEnd, client: ICohortLabClient) => {
    app.shell.add(new CohortLabPanel(client), 'left', { rank: 850 });
  }
};

/** The right-side discussion panel and the thread badges on cells. */
const discussionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'cohortlab:discussions',
  description: 'Threaded discussion on notebook cells and the course Q&A.',
  autoStart: true,
  requires: [ICohortLabClient, IRenderMimeRegistry, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    client: ICohortLabClient,
    rendermime: IRenderMimeRegistry,
    shell: ILabShell
  ) => {
    const panel = new DiscussionPanel(client, rendermime, shell, app);
    panel.title.icon = cohortLabIcon;
    app.shell.add(panel, 'right', { rank: 600 });
  }
};

export default [
  clientPlugin,
  peerTextPlugin,
  panelPlugin,
  discussionPlugin,
  reviewPlugin,
  workspacePlugin,
  workspaceTrustPlugin,
  workspaceWidgetsPlugin,
  widgetBridgePlugin
];
