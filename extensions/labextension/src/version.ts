/**
 * The lab extension's version. A test keeps it equal to package.json and to the
 * Python package's `cohortlab/_version.py`, so all three ship as one release.
 */
export const VERSION = '0.1.0';

/**
 * A sentence for the panel when the parts of CohortLab disagree on version, or
 * null when they match. Different versions may speak different APIs, so any
 * difference is reported plainly.
 */
export function versionMismatch(
  service: string | null,
  serverExtension: string | null
): string | null {
  const parts: string[] = [];
  if (service && service !== VERSION) {
    parts.push(`the CohortLab service is ${service}`);
  }
  if (serverExtension && serverExtension !== VERSION) {
    parts.push(`this server's CohortLab extension is ${serverExtension}`);
  }
  if (parts.length === 0) {
    return null;
  }
  return (
    `Version mismatch: this JupyterLab extension is ${VERSION} but ` +
    `${parts.join(' and ')}. Ask your administrator to upgrade so all match; ` +
    'until then some features may fail.'
  );
}
