import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isResponseSerializationError } from 'fastify-type-provider-zod';
import { isLlmopsError } from '@llmops/core';
import type { ErrorCode } from '@llmops/spec';

export function sendError(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
) {
  return reply
    .status(status)
    .send({ status: 'error', message, data: { code, requestId: reply.request.id, ...extra } });
}

/** Maps Fastify's own error codes to the contract's codes and messages. */
const FASTIFY_ERRORS: Record<
  string,
  { status: number; code: ErrorCode; message: (e: FastifyError) => string }
> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'INVALID_JSON',
    message: (e) => `Malformed JSON body: ${e.message}`,
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'INVALID_JSON',
    message: () => 'Empty JSON body: send a JSON object',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: () => 'Request body is larger than the configured limit',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: (e) => `${e.message}; send application/json`,
  },
  FST_REQ_FILE_TOO_LARGE: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: () => 'Uploaded file is larger than the configured limit',
  },
  FST_INVALID_MULTIPART_CONTENT_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: () => 'Expected multipart/form-data',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'BAD_REQUEST',
    message: () => 'Content-Length does not match the body',
  },
};

/** One error handler renders the `{status,message,data}` envelope; 5xx details are logged, never sent. */
export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isLlmopsError(error)) {
      if (error.statusCode >= 500) request.log.error({ err: error }, error.message);
      const extra: Record<string, unknown> = {};
      if (error.violations) extra.violations = error.violations;
      if (error.details) extra.details = error.details;
      return sendError(reply, error.statusCode, error.code, error.message, extra);
    }
    const known = error.code ? FASTIFY_ERRORS[error.code] : undefined;
    if (known) return sendError(reply, known.status, known.code, known.message(error));
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause.issues }, 'response did not match its schema');
      return sendError(reply, 500, 'INTERNAL', 'Internal error');
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(
        reply,
        error.statusCode,
        error.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST',
        error.message,
      );
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, 500, 'INTERNAL', 'Internal error');
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`),
  );
});
