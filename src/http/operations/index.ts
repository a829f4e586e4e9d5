// Every `$` operation the gateway offers, one file each. app.ts mounts them from this list, which is also the order
// the CapabilityStatement and the OpenAPI description name them in.
import { routeOf, type Operation } from '../define-operation.js';
import { accessReportOperation } from './access-report.js';
import { auditExportOperation } from './audit-export.js';
import { auditVerifyOperation } from './audit-verify.js';
import { consentDecisionOperation } from './consent-decision.js';
import { exchangeOperation } from './exchange.js';
import { expandOperation } from './expand.js';
import { fromFhirOperation } from './from-fhir.js';
import { municipalOperation } from './municipal.js';
import { permissionsOperation } from './permissions.js';
import { recordTrajectoryOperation } from './record-trajectory.js';
import { requestRecordsOperation } from './request-records.js';
import { securityLabelOperation } from './security-label.js';
import { toFhirOperation } from './to-fhir.js';
import { validateOperations } from './validate.js';
import { codeSystemValidateCodeOperation, valueSetValidateCodeOperation } from './validate-code.js';
import { withdrawOperation } from './withdraw.js';

export const OPERATIONS: readonly Operation[] = [
  // Outside the FHIR base: native formats, and the municipal report.
  toFhirOperation,
  fromFhirOperation,
  recordTrajectoryOperation,
  municipalOperation,
  // Terminology (public).
  codeSystemValidateCodeOperation,
  expandOperation,
  valueSetValidateCodeOperation,
  // Behind the token check.
  ...validateOperations,
  exchangeOperation,
  requestRecordsOperation,
  consentDecisionOperation,
  securityLabelOperation,
  withdrawOperation,
  permissionsOperation,
  accessReportOperation,
  auditVerifyOperation,
  auditExportOperation,
];

/** Where an operation is mounted: `/fhir`, or the first segment of a path outside it (`/reports`, `/mappings`). */
export const mountOf = (op: Operation): string => `/${routeOf(op).path.split('/')[1]}`;

/** The operations mounted at `base`: all of them, or those served without a token (`public`) or with one. */
export function operationsAt(base: string, access?: 'public' | 'token'): Operation[] {
  return OPERATIONS.filter(
    (op) =>
      mountOf(op) === base &&
      (access === undefined || (op.permission === 'public') === (access === 'public')),
  );
}
