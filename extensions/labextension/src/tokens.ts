import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

/** One course the person is in, with their most capable role there. */
export interface ICourse {
  id: string;
  role: 'instructor' | 'mentor' | 'learner';
  roles: string[];
}

export interface ICohort {
  course: string;
  name: string;
  group: string;
}

/** `GET api/v1/me` */
export interface IMe {
  name: string;
  admin: boolean;
  courses: ICourse[];
  cohorts: ICohort[];
}

/** `GET api/v1` */
export interface IServiceInfo {
  version: string;
  api: string;
}

/** What the server extension says about how to reach the service. */
export interface ITransportConfig {
  version: string | null;
  mode: 'relay' | 'direct';
  service_url: string;
  hub_user: string | null;
  /** Why the config could not be read from the server extension, if it could not. */
  fallback_reason?: string;
}

/** A frame of the per-user event stream: `{"type": ..., ...}`. */
export interface ICohortLabEvent {
  type: string;
  [key: string]: unknown;
}

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

/**
 * The one client every CohortLab front-end feature uses to reach the service,
 * through the relay in the person's own server or directly with their own hub
 * session (in shared servers).
 */
export interface ICohortLabClient {
  /** How the client reaches the service; resolved once, at start. */
  readonly transport: Promise<ITransportConfig>;
  /** Call the service's API (`path` is relative to `api/v1/`). Throws CohortLabError. */
  requestAPI<T>(path: string, init?: RequestInit): Promise<T>;
  /** Events addressed to this person, live. */
  readonly events: ISignal<ICohortLabClient, ICohortLabEvent>;
  readonly connectionChanged: ISignal<ICohortLabClient, ConnectionState>;
  readonly connectionState: ConnectionState;
}

export const ICohortLabClient = new Token<ICohortLabClient>(
  'cohortlab:ICohortLabClient',
  'The client for the CohortLab hub service.'
);
