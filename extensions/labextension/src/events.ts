import { ISignal, Signal } from '@lumino/signaling';

import { ConnectionState, ICohortLabEvent } from './tokens';

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

/**
 * The per-user event stream: one WebSocket, reopened with backoff (1 s doubling
 * to 30 s) whenever it drops, so a restarted service or a flaky network only
 * delays live updates.
 */
export class EventStream {
  constructor(
    private readonly url: () => Promise<string>,
    private readonly WebSocketClass: typeof WebSocket = WebSocket
  ) {}

  get received(): ISignal<this, ICohortLabEvent> {
    return this._received;
  }

  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  get state(): ConnectionState {
    return this._state;
  }

  start(): void {
    if (!this._stopped) {
      return;
    }
    this._stopped = false;
    void this._open();
  }

  stop(): void {
    this._stopped = true;
    window.clearTimeout(this._timer);
    this._socket?.close();
    this._socket = null;
    this._setState('disconnected');
  }

  private async _open(): Promise<void> {
    if (this._stopped) {
      return;
    }
    this._setState('connecting');
    let socket: WebSocket;
    try {
      socket = new this.WebSocketClass(await this.url());
    } catch {
      this._retry();
      return;
    }
    this._socket = socket;
    socket.onmessage = msg => {
      let event: ICohortLabEvent;
      try {
        event = JSON.parse(String(msg.data));
      } catch {
        return;
      }
      if (event.type === 'hello') {
        this._delay = FIRST_DELAY_MS;
        this._setState('connected');
      }
      this._received.emit(event);
    };
    socket.onclose = () => {
      if (this._socket === socket) {
        this._socket = null;
        this._setState('disconnected');
        this._retry();
      }
    };
  }

  private _retry(): void {
    if (this._stopped) {
      return;
    }
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(() => void this._open(), this._delay);
    this._delay = Math.min(this._delay * 2, MAX_DELAY_MS);
  }

  private _setState(state: ConnectionState): void {
    if (state !== this._state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _socket: WebSocket | null = null;
  private _state: ConnectionState = 'disconnected';
  private _stopped = true;
  private _delay = FIRST_DELAY_MS;
  private _timer = 0;
  private _received = new Signal<this, ICohortLabEvent>(this);
  private _stateChanged = new Signal<this, ConnectionState>(this);
}
