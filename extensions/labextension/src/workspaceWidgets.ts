/**
 * CohortLab's notebook widgets in a cohort workspace that keeps outputs untrusted
 * (`WorkspaceExtension.untrusted_outputs`, the default; see docs/cohort-workspace.md).
 *
 * An anywidget's code is its `_esm` trait, which comes from the kernel; in a workspace the
 * kernel runs whatever any member typed, so that code must not run in the others' browsers.
 * anywidget imports `_esm` as soon as the widget's *model* exists (for its `initialize`
 * hook), whether or not an output is trusted, so keeping cells untrusted is not enough on
 * its own. Here, instead:
 *
 * - the workspace server disables anywidget's own lab extension on its page, and this
 *   plugin registers the widget module `anywidget` in its place: `AnyModel` keeps the
 *   synced state and never reads `_esm` or `_css`;
 * - a CohortLab widget (`_cohortlab_view` is `quiz` or `leaderboard`) is drawn with the
 *   views bundled in this extension (`widgets/*.js`, the same files the kernel would send),
 *   so the only code that runs is the code that was installed with CohortLab; any other
 *   anywidget shows a short notice instead of running;
 * - CohortLab widgets also put `application/vnd.cohortlab.widget-view+json` in their
 *   output. Its renderer is safe (it runs no code from the output), so JupyterLab uses it
 *   in untrusted cells, where it never uses the widget view's own renderer.
 *
 * The state the kernel sends is still anyone's to set (a quiz id, a course): the bundled
 * views only show it as text and call the service through the widget bridge, as the
 * person, for what that person clicks.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime';
import {
  DOMWidgetModel,
  DOMWidgetView,
  IJupyterWidgetRegistry,
  WidgetModel
} from '@jupyter-widgets/base';
import type { JSONValue } from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';

import { untrustedWorkspace } from './untrusted';

/** The output CohortLab's widgets add beside the widget view: `{model_id, view}`. */
export const COHORTLAB_VIEW_MIMETYPE = 'application/vnd.cohortlab.widget-view+json';

/** Better than text/plain (100), worse than the widget view (-10) where that may render. */
const RENDERER_RANK = 50;

/** How long an output waits for its model (the kernel's comm may open just after it). */
const MODEL_WAIT_MS = 5000;

const VIEWS = ['quiz', 'leaderboard'] as const;
type ViewName = (typeof VIEWS)[number];

export const NOT_RUN =
  "This widget's code comes from the workspace's shared kernel, so it is not run here: " +
  'in a cohort workspace only CohortLab\'s own widgets are drawn.';

/** The CohortLab view a model asks for, if it is one of ours. */
export function cohortlabView(model: WidgetModel): ViewName | null {
  const name = model.get('_cohortlab_view');
  return (VIEWS as readonly string[]).includes(name) ? (name as ViewName) : null;
}

/** Models made by this module's `AnyModel`, by id, for the safe renderer. */
const models = new Map<string, WidgetModel>();
const waiting = new Map<string, Array<(model: WidgetModel) => void>>();

function adopt(model: WidgetModel): void {
  const id = model.model_id;
  models.set(id, model);
  model.once('destroy', () => models.delete(id));
  for (const resolve of waiting.get(id) ?? []) {
    resolve(model);
  }
  waiting.delete(id);
}

/** The model with this id, once this page's widget manager has made it (or null). */
export function waitForModel(id: string, waitMs = MODEL_WAIT_MS): Promise<WidgetModel | null> {
  const known = models.get(id);
  if (known) {
    return Promise.resolve(known);
  }
  return new Promise(resolve => {
    const done = (model: WidgetModel | null) => {
      clearTimeout(timer);
      resolve(model);
    };
    const timer = setTimeout(() => {
      const list = (waiting.get(id) ?? []).filter(f => f !== done);
      list.length ? waiting.set(id, list) : waiting.delete(id);
      resolve(null);
    }, waitMs);
    waiting.set(id, [...(waiting.get(id) ?? []), done]);
  });
}

type Cleanup = () => void;

/**
 * Draw `model` into `el` with the bundled view it names, through anywidget's model
 * interface (get/set/on/off/send/save_changes); anything else gets the notice.
 */
export async function mount(model: WidgetModel, el: HTMLElement): Promise<Cleanup> {
  const name = cohortlabView(model);
  if (!name) {
    const note = document.createElement('p');
    note.className = 'cl-not-run';
    note.dataset.testid = 'widget-not-run';
    note.textContent = NOT_RUN;
    el.replaceChildren(note);
    return () => undefined;
  }
  const views = await import('./widgetViews');
  const context = {};
  const proxy = {
    get: (key: string) => model.get(key),
    set: (key: string, value: unknown) => model.set(key, value),
    save_changes: () => model.save_changes(),
    send: (content: JSONValue, callbacks?: object, buffers?: ArrayBuffer[]) =>
      model.send(content, callbacks ?? {}, buffers),
    on: (event: string, callback: (...args: any[]) => void) => model.on(event, callback, context),
    off: (event?: string | null, callback?: ((...args: any[]) => void) | null) =>
      model.off(event ?? null, callback ?? null, context)
  };
  const cleanup = await views[name].render({ model: proxy, el });
  return () => {
    if (typeof cleanup === 'function') {
      cleanup();
    }
    model.off(null, null, context);
  };
}

/** anywidget's model, without its code: the synced state only. */
export class SafeAnyModel extends DOMWidgetModel {
  defaults(): Backbone.ObjectHash {
    return {
      ...super.defaults(),
      _model_name: 'AnyModel',
      _model_module: 'anywidget',
      _view_name: 'AnyView',
      _view_module: 'anywidget'
    };
  }

  initialize(attributes: Backbone.ObjectHash, options: any): void {
    super.initialize(attributes, options);
    adopt(this);
  }
}

/** anywidget's view (where a trusted output or a container draws one): bundled code only. */
export class SafeAnyView extends DOMWidgetView {
  private cleanup: Promise<Cleanup> | null = null;

  render(): void {
    this.cleanup = mount(this.model, this.el);
  }

  remove(): any {
    void this.cleanup?.then(cleanup => cleanup());
    return super.remove();
  }
}

/** Renders `COHORTLAB_VIEW_MIMETYPE`: the model's CohortLab view, else the output's text. */
export class CohortLabWidgetRenderer extends Widget implements IRenderMime.IRenderer {
  private cleanup: Cleanup | null = null;
  /** The latest `renderModel` call: an earlier one still waiting for its model gives way. */
  private ticket = 0;

  constructor() {
    super();
    this.addClass('cl-widget-output');
  }

  async renderModel(mime: IRenderMime.IMimeModel): Promise<void> {
    const ticket = ++this.ticket;
    const current = () => !this.isDisposed && ticket === this.ticket;
    this.release();
    const data = mime.data[COHORTLAB_VIEW_MIMETYPE] as { model_id?: unknown } | undefined;
    const id = typeof data?.model_id === 'string' ? data.model_id : '';
    const model = id ? await waitForModel(id) : null;
    if (!current()) {
      return;
    }
    const text = () => {
      const pre = document.createElement('pre');
      pre.textContent = String(mime.data['text/plain'] ?? '');
      this.node.replaceChildren(pre);
    };
    if (!model || !cohortlabView(model)) {
      text(); // no widget here (no kernel, or not one of CohortLab's): what JupyterLab shows
      return;
    }
    const el = document.createElement('div');
    this.node.replaceChildren(el);
    const cleanup = await mount(model, el);
    if (!current()) {
      cleanup();
      return;
    }
    this.cleanup = cleanup;
    model.once('destroy', () => {
      if (current()) {
        this.release();
        text(); // the kernel closed the widget (restarted, or the output was cleared)
      }
    });
  }

  dispose(): void {
    this.release();
    super.dispose();
  }

  private release(): void {
    this.cleanup?.();
    this.cleanup = null;
  }
}

/**
 * In a cohort workspace whose server keeps outputs untrusted: the `anywidget` module
 * without its code, and the safe renderer for CohortLab's widget outputs. The server
 * disables anywidget's own extension on such a page (`cohortlabAnywidgetVersion` is the
 * version its kernels ask for); without the widget registry nothing here is needed.
 */
export const workspaceWidgetsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'cohortlab:workspace-widgets',
  description: "Draws CohortLab's notebook widgets in a cohort workspace from CohortLab's own code.",
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [IJupyterWidgetRegistry],
  activate: (
    _app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    registry: IJupyterWidgetRegistry | null
  ) => {
    if (!untrustedWorkspace() || !registry) {
      return;
    }
    registry.registerWidget({
      name: 'anywidget',
      version: PageConfig.getOption('cohortlabAnywidgetVersion') || '0.0.0',
      exports: { AnyModel: SafeAnyModel, AnyView: SafeAnyView }
    });
    rendermime.addFactory(
      {
        safe: true,
        mimeTypes: [COHORTLAB_VIEW_MIMETYPE],
        createRenderer: () => new CohortLabWidgetRenderer()
      },
      RENDERER_RANK
    );
  }
};
