// One definition per operation and route: it mounts the express route and registers it in the route registry
// (capabilities.ts), which feeds the CapabilityStatement, the OpenAPI description and the served OperationDefinitions.
// A path, its permission and its inputs are written once, in the operation's own file (operations/).
import type { Request, RequestHandler, Response, Router } from 'express';
import type { RouteParameters } from 'express-serve-static-core';
import type { Permission } from '../auth/access.js';
import type { Interaction, RouteDoc } from './capabilities.js';
import type { HttpContext } from './context.js';
import { principalOf } from './http.js';
import { demand } from '../auth/access.js';
import type { OperationParam, ParamType } from './operation-spec.js';

export type OperationHandler = (ctx: HttpContext, req: Request, res: Response) => void | Promise<void>;

export interface Operation {
  /**
   * Its method and express path, as auth/scopes.ts names the route: on the system (`POST /fhir/$exchange`), a type
   * (`GET /fhir/Patient/$permissions`), its instances (`POST /fhir/Consent/:id/$withdraw`), or outside the FHIR base
   * (`GET /reports/$municipal`: in the OpenAPI description only, with no OperationDefinition).
   */
  route: `${'GET' | 'POST'} /${string}$${string}`;
  /**
   * Demanded of the caller before the handler runs. `public`: no token. Several: the handler demands the one that
   * applies (the same list as the route's row in auth/scopes.ts).
   */
  permission: Permission | 'public' | readonly Permission[];
  summary: string;
  tag: string;
  /** What it does, one sentence (the OperationDefinition's description). */
  description: string;
  /** Its in-parameters: the OperationDefinition's, and for a GET its query parameters. */
  input: OperationParam[];
  /** The answer's resource type, as the single `return` out-parameter. */
  returns: ParamType;
  affectsState: boolean;
  /** Middleware the route runs before the permission and the handler (a token check, a body parser). */
  before?: (ctx: HttpContext) => RequestHandler[];
  handler: OperationHandler;
}

/** An operation, checked against the shape every operation has (operations/index.ts lists them all). */
export const defineOperation = (operation: Operation): Operation => operation;

/** The parts of an operation's route: method, express path, the name after the `$`, and the FHIR type it is on. */
export function routeOf(op: Operation) {
  const [method, path] = op.route.split(' ') as [string, string];
  const name = path.slice(path.lastIndexOf('$') + 1);
  const below = path.startsWith('/fhir/') ? path.split('/')[2]! : undefined;
  const type = below && !below.startsWith('$') ? below : undefined;
  return { method: method.toLowerCase() as 'get' | 'post', path, name, type };
}

/**
 * Mounts operations on a router that sits at `base` (`/fhir`, `/reports` or the root), each with its entry in the
 * registry: a `$` operation below the FHIR base as a type or system operation, any other as a plain route.
 */
export function mountOperations(
  ctx: HttpContext,
  router: Router,
  base: string,
  operations: readonly Operation[],
): void {
  for (const op of operations) {
    const { method, path, name, type } = routeOf(op);
    if (!path.startsWith(`${base}/`)) throw new Error(`${path} is not below ${base}`);
    const doc: RouteDoc = { method, path, summary: op.summary, tag: op.tag };
    if (path.startsWith('/fhir/')) {
      const { description, input, returns, affectsState } = op;
      ctx.caps.operation(name, type, doc, { description, in: input, returns, affectsState });
    } else {
      // Outside FHIR a path parameter is written as OpenAPI writes it, as the CapabilityStatement's text lists it.
      const query = method === 'get' ? op.input.map(queryParam) : [];
      const plain = { ...doc, path: path.replace(/:(\w+)/g, '{$1}') };
      ctx.caps.route(query.length ? { ...plain, query } : plain);
    }
    const { permission } = op;
    router[method](
      path.slice(base.length).replace('$', '\\$'),
      ...(op.before?.(ctx) ?? []),
      async (req: Request, res: Response) => {
        if (typeof permission === 'string' && permission !== 'public') demand(principalOf(res), permission);
        await op.handler(ctx, req, res);
      },
    );
  }
}

const queryParam = (p: OperationParam) => ({
  name: p.name,
  description: p.documentation,
  ...(p.min === 1 ? { required: true } : {}),
});

/** A route that is not a `$` operation: a FHIR interaction of a type, or a plain route outside FHIR. */
export interface RouteDefinition<P extends string> {
  method: 'get' | 'post' | 'put';
  /** Below the router's mount point, as express reads it (`/Task/:id`). */
  path: P;
  summary: string;
  /** The FHIR interaction it implements, for the CapabilityStatement; absent for a plain route. */
  interaction?: readonly [type: string, interaction: Interaction];
  query?: RouteDoc['query'];
  answers?: RouteDoc['answers'];
  /**
   * Demanded of the caller right before the last handler runs, after the ones before it (a token check) as an
   * operation's permission is; absent for a route that checks its own.
   */
  permission?: Permission;
}

/**
 * A function that mounts routes on a router that sits at `base`, each registered under one tag with its full path:
 * `route({ method: 'get', path: '/Task/:id', interaction: ['Task', 'read'], summary }, handler)`.
 */
export function routesOn(ctx: HttpContext, router: Router, base: string, tag: string) {
  return <P extends string>(def: RouteDefinition<P>, ...handlers: RequestHandler<RouteParameters<P>>[]) => {
    const { method, path, summary, interaction, query, answers, permission } = def;
    const doc: RouteDoc = {
      method,
      // The root of a router below a mount point is the mount point itself (`/cds-services`).
      path: base && path === '/' ? base : `${base}${path}`,
      summary,
      tag,
      ...(query ? { query } : {}),
      ...(answers ? { answers } : {}),
    };
    if (interaction) ctx.caps.interaction(interaction[0], interaction[1], doc);
    else ctx.caps.route(doc);
    const all = handlers as RequestHandler[];
    const last = all[all.length - 1]!;
    const guarded: RequestHandler = (req, res, next) => {
      demand(principalOf(res), permission!);
      return last(req, res, next);
    };
    router[method](path, ...(permission ? [...all.slice(0, -1), guarded] : all));
  };
}
