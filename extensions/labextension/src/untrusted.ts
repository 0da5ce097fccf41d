/**
 * Notebooks whose outputs must never run script: review copies (a peer's code) and, where
 * the workspace server asks for it, every notebook of a cohort workspace (outputs there come
 * from code any member ran, and a trusted output's JavaScript, HTML event handler or widget
 * would run in every member's browser, on the hub's origin, where it could call CohortLab
 * as that member; see docs/cohort-workspace.md).
 *
 * Untrusted cells keep JupyterLab's own behaviour: HTML sanitized, JavaScript outputs not
 * run, widget views not drawn.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

export interface ITrustCellModel {
  trusted: boolean;
  stateChanged: ISignal<any, { name: string; newValue: any }>;
}

export interface ITrustNotebookModel {
  cells: Iterable<ITrustCellModel> & {
    changed: ISignal<any, { newValues: ITrustCellModel[] }>;
  };
}

/** Every cell untrusted, now and whenever something (a run, "Trust notebook") trusts it. */
export function keepUntrusted(model: ITrustNotebookModel | null | undefined): void {
  if (!model) {
    return;
  }
  const guard = (cell: ITrustCellModel) => {
    cell.trusted = false;
    cell.stateChanged.connect((m: ITrustCellModel, change) => {
      if (change.name === 'trusted' && change.newValue) {
        m.trusted = false;
      }
    });
  };
  for (const cell of model.cells) {
    guard(cell);
  }
  model.cells.changed.connect((_, change) => change.newValues.forEach(guard));
}

/** The untrusted guard on a notebook panel, from its creation (before its cells load). */
export function keepPanelUntrusted(widget: Widget): void {
  const panel = widget as any;
  widget.node.dataset.clUntrusted = 'true'; // for tests and styles
  if (panel?.content?.model) {
    keepUntrusted(panel.content.model);
  } else {
    void panel?.context?.ready?.then(() => keepUntrusted(panel.content?.model));
  }
}

/**
 * Call `adopt` with every notebook panel the app makes from now on (the `widgetCreated` of
 * each Notebook widget factory, which fires before the panel's model loads). A factory
 * registered later (another extension may replace the default one) is followed too.
 */
export function onNotebookCreated(app: JupyterFrontEnd, adopt: (widget: Widget) => void): void {
  const hooked = new WeakSet<object>();
  const hook = (): void => {
    const factory = app.docRegistry.getWidgetFactory('Notebook');
    if (factory && !hooked.has(factory)) {
      hooked.add(factory);
      factory.widgetCreated.connect((_, widget) => adopt(widget as Widget));
    }
  };
  hook();
  app.docRegistry.changed.connect((_, change: { type: string; name?: string }) => {
    if (change.type === 'widgetFactory') {
      hook();
    }
  });
}

/** Workspace accounts' names (`cohortlab.courses.COHORT_PREFIX`). */
const WORKSPACE_PREFIX = 'cohort-';

/**
 * Whether this lab is a cohort workspace's, known at once from the server's own URL
 * (`<hub>/user/<owner>/`; `hubUser` names the visitor, not the owner).
 */
export function inCohortWorkspace(): boolean {
  const base = PageConfig.getOption('baseUrl') || PageConfig.getBaseUrl();
  const owner = /\/user\/([^/]+)\/?$/.exec(new URL(base, window.location.href).pathname);
  return !!owner && decodeURIComponent(owner[1]).startsWith(WORKSPACE_PREFIX);
}

/** A cohort workspace whose server keeps outputs untrusted (`cohortlabUntrustedOutputs`). */
export function untrustedWorkspace(): boolean {
  const asked = String(PageConfig.getOption('cohortlabUntrustedOutputs')) === 'true';
  return asked && inCohortWorkspace();
}

/**
 * In a cohort workspace whose server says so (`WorkspaceExtension.untrusted_outputs`, sent
 * as the page option `cohortlabUntrustedOutputs`), every notebook is kept untrusted from the
 * moment its panel is made (this plugin needs nothing, so it is active before any document
 * opens). Untrusted outputs run no script and draw no widget (JupyterLab renders widget
 * views for trusted outputs only), CohortLab's own included.
 */
export const workspaceTrustPlugin: JupyterFrontEndPlugin<void> = {
  id: 'cohortlab:workspace-untrusted',
  description: 'Keeps every notebook of a cohort workspace untrusted.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    if (untrustedWorkspace()) {
      onNotebookCreated(app, keepPanelUntrusted);
    }
  }
};
