import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { parseWithRules } from '@llmops/spec';
import { schemaInvalid } from '@llmops/core';

const PART_PREFIX: Record<string, string> = {
  body: '',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/**
 * Validates with the route's Zod schema and reports every problem as a rule violation with its JSON path
 * (and, in bodies, an image chosen by the request as IMAGE_OVERRIDE_FORBIDDEN), so a malformed request
 * gets the same precise answer as a rule failure.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const prefix = PART_PREFIX[httpPart ?? 'body'] ?? '';
  const nested = httpPart === 'body' ? ['trainJobSpec', 'deploymentSpec'] : [];
  return (data) => {
    const r = parseWithRules(schema, data, nested);
    if (r.ok) return { value: r.value };
    const violations = prefix
      ? r.violations.map((v) => ({ ...v, path: v.path === '(body)' ? prefix : `${prefix}.${v.path}` }))
      : r.violations;
    return { error: schemaInvalid(violations, httpPart === 'body' ? 'Request body' : `Request ${prefix}`) };
  };
};
