// What the HTTP layer works with: the gateway's services plus the registry of routes that feeds the
// CapabilityStatement and the OpenAPI document.
import type { GatewayContext } from '../context.js';
import type { Capabilities } from './capabilities.js';

export interface HttpContext extends GatewayContext {
  caps: Capabilities;
}
