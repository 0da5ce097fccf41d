import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { CohortLabError } from './errors';
import { ICohortLabClient, ICohortLabEvent } from './tokens';

/**
 * Where the bridge is put on the page. The widgets' modules (widgets/bridge.js)
 * look it up under the same registered symbol: anywidget imports each widget's
 * code from a blob URL, so it cannot import this package.
 */
export const WIDGET_BRIDGE_KEY = Symbol.for('cohortlab.widgets.bridge.v1');

/**
 * The service paths a notebook widget may call through the bridge: its quiz, the
 * quiz's live rounds, leaderboards, and which course has a quiz. Not a security
 * boundary (any script on the page can fetch with the person's cookie); it keeps
 * the bridge to what the widgets are for.
 */
const SEGMENT = '[^/?#]+';
const WIDGET_PATH = new RegExp(
  [
    `^(quizzes/${SEGMENT}`,
    `|courses/${SEGMENT}/(quizzes(/${SEGMENT}(/(answers|live|leaderboard))?)?`,
    '|live/\\d+(/(join|answers|next|close|end))?',
    '|leaderboard))',
    '(\\?[^#]*)?$'
  ].join('')
);

/** What one listener of the bridge's event stream is told. */
export interface IWidgetEventListener {
  event?(frame: ICohortLabEvent): void;
  connected?(value: boolean): void;
}

/**
 * The CohortLab client, as the notebook widgets (plain ES modules, no imports) see
 * it. In a shared server (a cohort workspace, direct mode) the widgets call the
 * service through it from the browser, as the person signed in to the browser,
 * instead of through the shared kernel, whose token identifies no one.
 */
export interface IWidgetBridge {
  readonly version: 1;
  /** 'direct' (the person's own session) or 'relay' (the server's token). */
  mode(): Promise<'relay' | 'direct'>;
  /** `path` relative to `api/v1/`; rejects with a CohortLabError (`status, code, message`). */
  request(path: string, options?: { method?: string; body?: unknown }): Promise<unknown>;
  /** The person's event stream (the client's own socket); returns an unsubscribe. */
  subscribe(listener: IWidgetEventListener): () => void;
}

export function createWidgetBridge(client: ICohortLabClient): IWidgetBridge {
  return {
    version: 1,
    mode: async () => (await client.transport).mode,
    request: async (path, options = {}) => {
      if (!WIDGET_PATH.test(path)) {
        throw new CohortLabError(
          400,
          'not_a_widget_path',
          `CohortLab widgets do not call ${path}.`
        );
      }
      const init: RequestInit = { method: options.method ?? 'GET' };
      if (options.body !== undefined) {
        init.body = JSON.stringify(options.body);
      }
      return client.requestAPI<unknown>(path, init);
    },
    subscribe: listener => {
      const onEvent = (_: unknown, frame: ICohortLabEvent) => {
        if (frame.type !== 'hello') {
          listener.event?.(frame);
        }
      };
      const onState = () => listener.connected?.(client.connectionState === 'connected');
      client.events.connect(onEvent);
      client.connectionChanged.connect(onState);
      onState();
      return () => {
        client.events.disconnect(onEvent);
        client.connectionChanged.disconnect(onState);
      };
    }
  };
}

/** Puts the bridge on the page for the notebook widgets (see widgets/README.md). */
export const widgetBridgePlugin: JupyterFrontEndPlugin<void> = {
  id: 'cohortlab:widget-bridge',
  description: "Lets CohortLab's notebook widgets reach the service as the person in the browser.",
  autoStart: true,
  requires: [ICohortLabClient],
  activate: (_app, client: ICohortLabClient) => {
    (globalThis as Record<symbol, unknown>)[WIDGET_BRIDGE_KEY] = createWidgetBridge(client);
  }
};
