export { ADMIN_PREFIXES, type AppOptions, createApp } from './app.ts';
export { createKeyResolver, type KeyResolver } from './http/auth.ts';
export { errorBody, httpStatus, STATUS_BY_CODE } from './http/errors.ts';
export { createOpenApiDocument } from './http/openapi.ts';
export { DEFAULT_RATE_LIMIT, type RateLimitOptions } from './http/rate-limit.ts';
export {
  type CreateApiKeyOptions,
  type CreateApiKeyResult,
  createApiKey,
  ensureKey,
  generateKey,
  hashKey,
  listKeys,
  publicKeyView,
  revokeKey,
} from './keys.ts';
export { createLogger, fromPino, type LoggerOptions, type ServerLogger } from './logger.ts';
export { DEFAULT_PORT, openStore, type StartedServer, type StartServerOptions, startServer } from './start.ts';
