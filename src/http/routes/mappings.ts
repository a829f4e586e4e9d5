// Native formats ↔ FHIR: GET /mappings (the formats and their field tables; public). The mapping operations are in
// operations/ (to-fhir.ts, from-fhir.ts).
import type { Router } from 'express';
import { FORMATS } from '../../mappings/formats.js';
import type { HttpContext } from '../context.js';
import { routesOn } from '../define-operation.js';

export function mappingRoutes(ctx: HttpContext, router: Router): void {
  const route = routesOn(ctx, router, '', 'Mappings');
  route(
    { method: 'get', path: '/mappings', summary: 'Native formats and their field tables' },
    (_req, res) => {
      res.json({
        formats: Object.values(FORMATS).map((f) => ({
          name: f.name,
          title: f.title,
          contentTypes: f.contentTypes,
          tables: f.tables,
          ...(f.csvColumns ? { csvColumns: f.csvColumns } : {}),
        })),
      });
    },
  );
}
