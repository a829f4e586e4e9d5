// Action semantics: in an exchange the sender discloses and the recipient collects, accesses and uses.
import type { ConsentProvision } from '@medplum/fhirtypes';
import { AGENCY_ROLE_SYSTEM } from './constants.js';
import type { ConsentAction, DecisionRequest } from './types.js';

/** What each party of an exchange does (Consent.provision.action, http://terminology.hl7.org/CodeSystem/consentaction). */
export const SENDER_ACTIONS: readonly ConsentAction[] = ['disclose'];
export const RECIPIENT_ACTIONS: readonly ConsentAction[] = ['collect', 'access', 'use'];

/** Actor roles that name who receives the information (v3 ParticipationType): never the sender. */
const RECIPIENT_ROLES = new Set(['IRCP', 'PRCP']);

/**
 * Whether a provision's actors name the sending organisation (by reference or by agency role). An actor in a
 * recipient role (IRCP, PRCP) names a recipient only: a consent that lets the GP receive does not let the GP pass the
 * data on to anyone else.
 */
export function namesSender(node: ConsentProvision, req: DecisionRequest): boolean {
  const org = req.senderOrg ?? req.requesterOrg;
  const role = req.senderRole ?? req.requesterRole;
  return (node.actor ?? []).some((actor) => {
    if ((actor.role?.coding ?? []).some((c) => c.code !== undefined && RECIPIENT_ROLES.has(c.code)))
      return false;
    const ref = actor.reference;
    if (ref.reference) return ref.reference === org;
    return ref.identifier?.system === AGENCY_ROLE_SYSTEM && ref.identifier.value === role;
  });
}

function actionCodes(node: ConsentProvision): string[] {
  return (node.action ?? []).flatMap((a) => (a.coding ?? []).flatMap((c) => (c.code ? [c.code] : [])));
}

/**
 * Whether a node applies to the parties and actions of this exchange. `namesRecipient` is the provision's actor
 * match against the recipient (true when it names no actor). A node applies when one of its actions is the act of
 * a party it names (no action = every act): the sender's `disclose`, the recipient's `collect`/`access`/`use`, and
 * `disclose` towards a recipient it names (FHIR's information-recipient reading). A permit is only a basis for the
 * exchange when it lets the sender disclose: permitting the recipient's access alone does not move data. A deny
 * applies to any act of the exchange by a party it names. `correct` is never part of an exchange.
 * A request that asks about one act of the recipient (`req.action` other than disclose) is matched on that act.
 */
export function partiesAndActionsApply(
  node: ConsentProvision,
  type: 'permit' | 'deny',
  req: DecisionRequest,
  namesRecipient: boolean,
): boolean {
  const anyActor = !node.actor?.length;
  const sender = !anyActor && namesSender(node, req);
  if (!namesRecipient && !sender) return false;
  const codes = actionCodes(node);
  if (req.action && req.action !== 'disclose')
    return namesRecipient && (codes.length === 0 || codes.includes(req.action));
  if (codes.length === 0) return true;
  const discloses = codes.includes('disclose');
  if (type === 'permit') return discloses;
  return discloses || (namesRecipient && codes.some((c) => (RECIPIENT_ACTIONS as string[]).includes(c)));
}
