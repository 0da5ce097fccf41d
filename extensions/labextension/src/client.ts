import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { CohortLabError } from './errors';
import { EventStream } from './events';
import {
  ConnectionState,
  ICohortLabClient,
  ICohortLabEvent,
  ITransportConfig
} from './tokens';

const SESSION_TIMEOUT_MS = 10000;

/**
 * Talks to the CohortLab service in one of two ways:
 *
 * - relay (the person's own server): same-origin through the server extension at
 *   `<base>/cohortlab/api/v1/`, which adds the server's hub token;
 * - direct (a server shared by several people, e.g. a cohort workspace): to
 *   `/services/cohortlab/api/v1/` with the person's own hub OAuth cookie, so
 *   nothing is attributed to the server's owner. With per-user origins the
 *   service is on its own origin (`service_url` is absolute): credentialed CORS
 *   fetches, which the service allows for cohort workspaces' origins only.
 *
 * The server extension's `cohortlab/config` says which; without it the client
 * goes direct.
 */
export class CohortLabClient implements ICohortLabClient {
  constructor(private readonly settings = ServerConnection.makeSettings()) {
    this.transport = this._resolveTransport();
    this._stream = new EventStream(() => this._eventsUrl(), settings.WebSocket);
    this._stream.received.connect((_, event) => this._events.emit(event));
    this._stream.stateChanged.connect((_, state) => this._connectionChanged.emit(state));
    void this.transport.then(() => this._stream.start());
  }

  readonly transport: Promise<ITransportConfig>;

  get events(): ISignal<ICohortLabClient, ICohortLabEvent> {
    return this._events;
  }

  get connectionChanged(): ISignal<ICohortLabClient, ConnectionState> {
    return this._connectionChanged;
  }

  get connectionState(): ConnectionState {
    return this._stream.state;
  }

  async requestAPI<T>(path: string, init: RequestInit = {}): Promise<T> {
    const transport = await this.transport;
    const response =
      transport.mode === 'relay'
        ? await this._relayFetch(path, init)
        : await this._directFetch(transport, path, init);
    if (!response.ok) {
      throw await CohortLabError.fromResponse(response);
    }
    if (response.status === 204) {
      return undefined as T;
    }
    try {
      return (await response.json()) as T;
    } catch {
      throw new CohortLabError(
        response.status,
        'invalid_response',
        'The CohortLab service sent a response that is not JSON.'
      );
    }
  }

  dispose(): void {
    this._stream.stop();
  }

  private async _resolveTransport(): Promise<ITransportConfig> {
    const url = URLExt.join(this.settings.baseUrl, 'cohortlab', 'config');
    try {
      const response = await ServerConnection.makeRequest(url, {}, this.settings);
      if (response.ok) {
        const config = (await response.json()) as ITransportConfig;
        return { ...config, service_url: ensureSlash(config.service_url) };
      }
      return this._fallback(`the server extension answered ${response.status}`);
    } catch (reason) {
      return this._fallback(String(reason));
    }
  }

  private _fallback(reason: string): ITransportConfig {
    const hubPrefix = PageConfig.getOption('hubPrefix');
    const serviceUrl = hubPrefix
      ? hubPrefix.replace(/hub\/?$/, '') + 'services/cohortlab/'
      : '/services/cohortlab/';
    return {
      version: null,
      mode: 'direct',
      service_url: ensureSlash(serviceUrl),
      hub_user: PageConfig.getOption('hubUser') || null,
      fallback_reason: `CohortLab's server extension is not available here (${reason}); talking to the service directly.`
    };
  }

  private async _relayFetch(path: string, init: RequestInit): Promise<Response> {
    const url = URLExt.join(this.settings.baseUrl, 'cohortlab', 'api', 'v1', path);
    try {
      return await ServerConnection.makeRequest(url, init, this.settings);
    } catch (reason) {
      throw CohortLabError.network(reason);
    }
  }

  private async _directFetch(
    transport: ITransportConfig,
    path: string,
    init: RequestInit
  ): Promise<Response> {
    const url = URLExt.join(transport.service_url, 'api', 'v1', path);
    // JupyterHub checks XSRF on every cookie-authenticated fetch(), reads included.
    const send = () => {
      const headers = new Headers(init.headers);
      if (this._xsrf) {
        headers.set('X-XSRFToken', this._xsrf);
      }
      if (init.body && !headers.has('Content-Type')) {
        headers.set('Content-Type', 'application/json');
      }
      // Another origin gets the person's service cookie only when asked to include it.
      const credentials = isCrossOrigin(transport) ? 'include' : 'same-origin';
      return fetch(url, { ...init, headers, credentials });
    };
    try {
      if (!this._xsrf) {
        // The sign-in frame hands over the service's XSRF token (its cookie is not ours).
        await this._ensureSession(transport);
      }
      let response = await send();
      if (response.status === 401) {
        await this._ensureSession(transport, { renew: true });
        response = await send();
      }
      return response;
    } catch (reason) {
      if (reason instanceof CohortLabError) {
        throw reason;
      }
      throw CohortLabError.network(reason);
    }
  }

  /**
   * Get the person's own OAuth cookie for the service: the service's session page,
   * loaded in a hidden frame, goes through the hub's OAuth (no prompt, the person
   * is signed in to the hub) and posts "session-ready" to us.
   */
  private _ensureSession(
    transport: ITransportConfig,
    options: { renew?: boolean } = {}
  ): Promise<void> {
    // Several requests may find the session missing at once; they share one sign-in
    // (two OAuth flows in parallel would overwrite each other's state cookie).
    if (options.renew && this._sessionSettled) {
      this._session = null;
    }
    if (!this._session) {
      this._sessionSettled = false;
      let url = URLExt.join(transport.service_url, 'auth', 'session');
      if (isCrossOrigin(transport)) {
        // The service lets only cohort workspaces' origins frame it, and posts only to us.
        url += `?origin=${encodeURIComponent(window.location.origin)}`;
      }
      this._session = openSession(url, serviceOrigin(transport)).then(
        xsrf => {
          this._xsrf = xsrf ?? this._xsrf;
          this._sessionSettled = true;
        },
        reason => {
          this._session = null;
          this._sessionSettled = true;
          throw reason;
        }
      );
    }
    return this._session;
  }

  private async _eventsUrl(): Promise<string> {
    const transport = await this.transport;
    if (transport.mode === 'relay') {
      let url = URLExt.join(this.settings.wsUrl, 'cohortlab', 'api', 'v1', 'events');
      if (this.settings.appendToken && this.settings.token) {
        url += `?token=${encodeURIComponent(this.settings.token)}`;
      }
      return url;
    }
    // Make sure the OAuth cookie exists before the browser opens the socket.
    await this.requestAPI('').catch(() => undefined);
    const service = new URL(transport.service_url, window.location.href);
    const origin = service.origin.replace(/^http/, 'ws');
    return origin + URLExt.join(service.pathname, 'api', 'v1', 'events');
  }

  private _stream: EventStream;
  private _session: Promise<void> | null = null;
  private _sessionSettled = false;
  private _xsrf: string | undefined;
  private _events = new Signal<ICohortLabClient, ICohortLabEvent>(this);
  private _connectionChanged = new Signal<ICohortLabClient, ConnectionState>(this);
}

function ensureSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}

/** The service's origin: its own with per-user origins, else this page's. */
function serviceOrigin(transport: ITransportConfig): string {
  return new URL(transport.service_url, window.location.href).origin;
}

function isCrossOrigin(transport: ITransportConfig): boolean {
  return serviceOrigin(transport) !== window.location.origin;
}

function readCookie(cookies: string, name: string): string | undefined {
  const match = cookies.match('(?:^|; )' + name + '=([^;]*)');
  return match ? decodeURIComponent(match[1]) : undefined;
}

/**
 * Load the service's session page in a hidden frame; resolves with the service's
 * XSRF token once the page says the session is ready. The page sends the token in
 * its message (a cross-origin parent cannot read the service's `_xsrf` cookie);
 * on one origin the cookie, visible to us on the service's path, is the fallback.
 * Only a message from that frame, on the service's origin, counts.
 */
function openSession(url: string, origin: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.setAttribute('aria-hidden', 'true');
    frame.title = 'CohortLab sign-in';
    let settled = false;
    const done = (ok: boolean, sent?: string) => {
      if (settled) {
        return;
      }
      settled = true;
      window.clearTimeout(timer);
      window.removeEventListener('message', onMessage);
      let xsrf = sent;
      if (xsrf === undefined) {
        try {
          xsrf = readCookie(frame.contentDocument?.cookie ?? '', '_xsrf');
        } catch {
          xsrf = undefined; // not same-origin: no token, writes will be refused with a message
        }
      }
      frame.remove();
      if (ok) {
        resolve(xsrf);
      } else {
        reject(
          new CohortLabError(
            401,
            'not_authenticated',
            'Could not sign in to the CohortLab service with your hub session; reload the page.'
          )
        );
      }
    };
    const onMessage = (event: MessageEvent) => {
      if (
        event.source === frame.contentWindow &&
        event.origin === origin &&
        event.data?.cohortlab === 'session-ready'
      ) {
        const xsrf = event.data.xsrf;
        done(true, typeof xsrf === 'string' && xsrf ? xsrf : undefined);
      }
    };
    // Fallback if the message is lost: the frame ended on the session page itself.
    frame.addEventListener('load', () => {
      try {
        if (frame.contentWindow?.location.pathname.endsWith('/auth/session')) {
          done(true);
        }
      } catch {
        // cross-origin page (e.g. an external login): wait for the message or the timeout
      }
    });
    const timer = window.setTimeout(() => done(false), SESSION_TIMEOUT_MS);
    window.addEventListener('message', onMessage);
    frame.src = url;
    document.body.appendChild(frame);
  });
}
