/**
 * An error from the CohortLab service (or from reaching it), carrying the
 * service's own message so the panel can show it as it is.
 */
export class CohortLabError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message);
    this.name = 'CohortLabError';
  }

  /** Read the one error shape `{"error": {"code", "message"}}`, or say what came instead. */
  static async fromResponse(response: Response): Promise<CohortLabError> {
    const text = await response.text().catch(() => '');
    try {
      const body = JSON.parse(text);
      if (body?.error?.message) {
        return new CohortLabError(
          response.status,
          String(body.error.code ?? 'error'),
          String(body.error.message)
        );
      }
      if (body?.message) {
        // jupyter_server's own error shape (e.g. the server refusing the request)
        return new CohortLabError(response.status, 'server_error', String(body.message));
      }
    } catch {
      // not JSON: a proxy's or hub's HTML page
    }
    const reason = response.statusText || 'no reason given';
    return new CohortLabError(
      response.status,
      'http_error',
      `The CohortLab service answered ${response.status} (${reason}).`
    );
  }

  static network(reason: unknown): CohortLabError {
    const detail = reason instanceof Error ? reason.message : String(reason);
    return new CohortLabError(
      0,
      'unreachable',
      `The CohortLab service could not be reached (${detail}).`
    );
  }
}
