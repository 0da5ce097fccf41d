import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';

import { CohortLabClient } from './client';
import { CohortLabPanel } from './panel';
import { ICohortLabClient } from './tokens';

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

export default [clientPlugin, panelPlugin];
