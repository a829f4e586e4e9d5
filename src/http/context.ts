// What the HTTP layer works with: the gateway's services plus the registry of routes that feeds the
// CapabilityStatement and the OpenAPI document, and the log of refused requests.
import type { GatewayContext } from '../context.js';
import type { Capabilities } from './capabilities.js';
import type { RefusalLog } from './refusals.js';

export interface HttpContext extends GatewayContext {
  caps: Capabilities;
  /** The refused requests of this gateway, on record through its group-commit audit writer. */
  refusals: RefusalLog;
}
