// FHIR REST for the person index and directory: create (conditional), read, update (If-Match), search, transaction.
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Router } from 'express';
import type { HttpContext } from '../context.js';
import { baseUrlOf, paging, principalOf, sendFhir } from '../http.js';
import { auditRead } from '../../audit/record.js';
import { checkFhir } from '../../mappings/validate.js';
import { accepted } from '../../fhir/verdict.js';
import { badRequest } from '../../fhir/outcomes.js';
import {
  createIndexed,
  INDEXED_TYPES,
  readIndexed,
  searchIndexed,
  updateIndexed,
} from '../../person-index/records.js';
import { runTransaction } from '../../person-index/transaction.js';
import { SEARCH_PARAMS } from '../../store/search-params.js';
import { searchBundle } from '../search-bundle.js';

function etag(resource: Resource): Record<string, string> {
  return {
    ETag: `W/"${resource.meta?.versionId ?? '1'}"`,
    'Last-Modified': new Date(resource.meta?.lastUpdated ?? Date.now()).toUTCString(),
  };
}

export function resourceRoutes(ctx: HttpContext, router: Router): void {
  for (const type of INDEXED_TYPES) {
    const tag = 'Person index and directory';
    ctx.caps.interaction(type, 'create', {
      method: 'post',
      path: `/fhir/${type}`,
      summary: `Create a ${type} (If-None-Exist supported)`,
      tag,
    });
    ctx.caps.interaction(type, 'read', {
      method: 'get',
      path: `/fhir/${type}/:id`,
      summary: `Read a ${type}`,
      tag,
    });
    ctx.caps.interaction(type, 'update', {
      method: 'put',
      path: `/fhir/${type}/:id`,
      summary: `Update a ${type} (If-Match supported)`,
      tag,
    });
    ctx.caps.interaction(type, 'search-type', {
      method: 'get',
      path: `/fhir/${type}`,
      summary: `Search ${type}`,
      tag,
    });
    for (const [name, paramType] of Object.entries(SEARCH_PARAMS)) {
      if (name === 'code') continue;
      ctx.caps.searchParam(type, name, paramType);
    }
    ctx.caps.searchParam(type, '_lastUpdated', 'date');

    router.post(`/${type}`, async (req, res) => {
      const principal = principalOf(res);
      const at = ctx.clock();
      const result = await ctx.db.transaction((tx) =>
        createIndexed(tx, principal, req.body, type, req.get('if-none-exist'), at),
      );
      sendFhir(res, result.created ? 201 : 200, result.resource, {
        Location: `${baseUrlOf(ctx, req)}/fhir/${type}/${result.resource.id}`,
        ...etag(result.resource),
      });
    });
    router.get(`/${type}/:id`, async (req, res) => {
      const principal = principalOf(res);
      const resource = await readIndexed(ctx.db, principal, type, req.params.id, (input) =>
        auditRead(ctx, principal, input),
      );
      sendFhir(res, 200, resource, etag(resource));
    });
    router.put(`/${type}/:id`, async (req, res) => {
      const principal = principalOf(res);
      const at = ctx.clock();
      const result = await ctx.db.transaction((tx) =>
        updateIndexed(tx, principal, req.body, type, req.params.id, req.get('if-match'), at),
      );
      sendFhir(res, 200, result.resource, etag(result.resource));
    });
    router.get(`/${type}`, async (req, res) => {
      const principal = principalOf(res);
      const { count, offset } = paging(req.query);
      const result = await searchIndexed(ctx.db, principal, type, req.query, count, offset, (input) =>
        auditRead(ctx, principal, input),
      );
      sendFhir(
        res,
        200,
        searchBundle(baseUrlOf(ctx, req), `/fhir/${type}`, req.query, result, count, offset),
      );
    });
  }

  ctx.caps.route({
    method: 'post',
    path: '/fhir',
    summary: 'Transaction Bundle of person-index resources',
    tag: 'Person index and directory',
  });
  router.post('/', async (req, res) => {
    const principal = principalOf(res);
    const at = ctx.clock();
    if ((req.body as Bundle | undefined)?.resourceType !== 'Bundle')
      throw badRequest(
        'POST /fhir verwacht een Bundle van het type transaction / POST /fhir takes a transaction Bundle',
        'resourceType',
      );
    // The whole Bundle is checked as R4 (entries, fullUrl, request) before any entry is applied.
    const bundle = accepted(checkFhir<Bundle>(req.body, ['Bundle'], { at }));
    if (bundle.type !== 'transaction')
      throw badRequest(
        'Hier wordt alleen Bundle.type transaction ondersteund / Only Bundle.type transaction is supported here',
        'Bundle.type',
      );
    const response = await ctx.db.transaction((tx) => runTransaction(tx, principal, bundle, at));
    sendFhir(res, 200, response);
  });
}
