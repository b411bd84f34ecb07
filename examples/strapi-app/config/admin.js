// Demo secrets: set the environment variables in anything that is not a local demo.
module.exports = ({ env }) => ({
  auth: { secret: env('ADMIN_JWT_SECRET', 'attune-demo-admin-jwt-secret') },
  apiToken: { salt: env('API_TOKEN_SALT', 'attune-demo-api-token-salt') },
  transfer: { token: { salt: env('TRANSFER_TOKEN_SALT', 'attune-demo-transfer-salt') } },
  secrets: { encryptionKey: env('ENCRYPTION_KEY', 'attune-demo-encryption-key-000000') },
  flags: { nps: false, promoteEE: false },
});
