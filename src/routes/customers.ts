import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { customerDetail } from '../services/customers/customer-detail.js';
import { listCustomers } from '../services/customers/list-customers.js';
import { apiRoute, type ApiEnv } from './middleware/auth.js';
import { commonErrors, conflict, json, notFound } from './middleware/schemas.js';

const Band = z.enum(['low', 'medium', 'high', 'critical']);
const num = z.coerce.number().finite();

export const CustomerListItemSchema = z
  .object({
    account: z.string(), customerId: z.string(), email: z.string().nullable(), name: z.string().nullable(), probability: z.number(),
    band: Band, asOf: z.number(), modelVersion: z.string(), mrr: z.number().int(), currency: z.string().nullable(), topDriver: z.string().nullable(),
  })
  .openapi('CustomerListItem');
export const CustomerPageSchema = z.object({
  snapshot: z.object({ modelName: z.string(), modelVersion: z.string(), asOf: z.number() }).nullable(),
  items: z.array(CustomerListItemSchema),
  nextCursor: z.string().nullable(),
});

const unix = z.number().int().openapi({ description: 'unix seconds' });
export const CustomerDetailSchema = z
  .object({
    account: z.string(), customerId: z.string(), email: z.string().nullable(), name: z.string().nullable(), created: unix.nullable(), delinquent: z.boolean().nullable(),
    latestScore: z
      .object({ asOf: unix, modelVersion: z.string(), probability: z.number(), band: Band, drivers: z.array(z.string()).openapi({ description: 'the top drivers in words, largest first' }) })
      .nullable(),
    scoreHistory: z.array(z.object({ asOf: unix, modelVersion: z.string(), probability: z.number(), band: Band })),
    subscriptions: z.array(z.object({ id: z.string(), status: z.string(), mrr: z.number().int(), currency: z.string().nullable(), cancelAtPeriodEnd: z.boolean() })),
    invoices: z.array(z.object({ id: z.string(), status: z.string().nullable(), amountDue: z.number().int(), amountPaid: z.number().int(), currency: z.string().nullable(), created: unix.nullable() })),
    events: z.array(z.object({ id: z.string(), type: z.string(), created: unix, objectId: z.string().nullable() })),
    interventions: z.array(
      z.object({ id: z.string(), policyId: z.string(), policyVersion: z.number().int(), arm: z.string(), action: z.string(), status: z.string(), decidedAt: unix, outcome: z.string().nullable() }),
    ),
  })
  .openapi('CustomerDetail');

const ListQuery = z.object({
  band: Band.optional(),
  minProbability: num.min(0).max(1).optional(),
  maxProbability: num.min(0).max(1).optional(),
  minMrr: z.coerce.number().int().min(0).optional(),
  maxMrr: z.coerce.number().int().min(0).optional(),
  account: z.string().optional(),
  policyId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
});

export function customersRoutes(api: OpenAPIHono<ApiEnv>): void {
  api.openapi(
    apiRoute('viewer', { method: 'get', path: '/v1/customers', tags: ['customers'], summary: 'Customers with their latest score, riskiest first (cursor pages)', request: { query: ListQuery }, responses: { 200: json(CustomerPageSchema, 'a page'), ...conflict, ...commonErrors } }),
    async (c) => {
      const { limit, cursor, ...filters } = c.req.valid('query');
      return c.json(await listCustomers(c.get('deps').database, { limit, cursor, filters }), 200);
    },
  );
  api.openapi(
    apiRoute('viewer', {
      method: 'get', path: '/v1/customers/{account}/{customerId}', tags: ['customers'], summary: 'Latest score with drivers in words, score history, subscriptions, invoices, events, interventions',
      request: { params: z.object({ account: z.string().openapi({ param: { name: 'account', in: 'path' } }), customerId: z.string().openapi({ param: { name: 'customerId', in: 'path' } }) }) },
      responses: { 200: json(CustomerDetailSchema, 'customer'), ...notFound, ...commonErrors },
    }),
    async (c) => {
      const { account, customerId } = c.req.valid('param');
      return c.json(await customerDetail(c.get('deps').database, account, customerId), 200);
    },
  );
}
