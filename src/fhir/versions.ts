// Resource versions: the If-Match precondition of an update.
import { preconditionFailed } from './outcomes.js';

/** If-Match (`W/"3"`, `"3"` or `3`) must name the current version; 412 otherwise. No header, no check. */
export function checkIfMatch(ifMatch: string | undefined, versionId: number): void {
  if (!ifMatch) return;
  const wanted = /^(W\/)?"?([^"]+)"?$/.exec(ifMatch)?.[2];
  if (wanted !== String(versionId)) {
    throw preconditionFailed(
      `Versieconflict: de huidige versie is ${versionId}, If-Match vroeg ${ifMatch} / Version conflict: current version is ${versionId}, If-Match asked ${ifMatch}`,
    );
  }
}
