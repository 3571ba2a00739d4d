// Token authentication of the proxy role: signed tokens (SignedTokenRedeemer + JtiRegistry), the webapp
// callback (WebappRedeemer), minting, keys, and the redeemer from configuration. See docs/proxy-auth.md.
export { AUTH_STATUS, AuthError, type AuthFailureReason, SAFE_MESSAGES } from './errors.js';
export {
  AuthConfigError,
  type ConfiguredRedeemer,
  checkProxyAuthConfig,
  createRedeemer,
  createTokenRedeemer,
  proxyAuthOf,
  REGISTER_PATH,
  type RedeemerDeps,
  type RegistrationSettings,
  registrationSettings,
  webappCa,
} from './from-config.js';
export {
  claimOnceWith,
  DEFAULT_MAX_JTI_ENTRIES,
  JtiRegistry,
  type JtiRegistryOptions,
  type JtiRegistryStats,
} from './jti-registry.js';
export {
  generateSigningKeyPair,
  KeyError,
  keyId,
  loadPublicKeys,
  parseEncryptionKey,
  parsePrivateKey,
  parsePublicKeys,
  type VerificationKey,
} from './keys.js';
export { type MintOptions, mintToken } from './mint.js';
export {
  MAX_REGISTER_RESPONSE_BYTES,
  REGISTRATION_DELAYS,
  type Registration,
  type RegistrationDelays,
  type RegistrationLog,
  type RegistrationOptions,
  registerWithWebapp,
} from './registration.js';
export {
  checkClaims,
  checkRedeemResponse,
  checkRegisterResponse,
  claimsSchema,
  LIMITS,
  policySchema,
  type RedeemResponse,
  type RegisterRequest,
  type RegisterResponse,
  redeemErrorSchema,
  redeemRequestSchema,
  redeemResponseSchema,
  registerErrorSchema,
  registerRequestSchema,
  registerResponseSchema,
  type TokenClaims,
  targetSchema,
} from './schemas.js';
export {
  DEFAULT_AUDIENCE,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_LIFETIME_SECONDS,
  SignedTokenRedeemer,
  type SignedTokenRedeemerOptions,
} from './signed.js';
export { type GrantSummary, grantSummary } from './summary.js';
export {
  DEFAULT_WEBAPP_TIMEOUT_MS,
  MAX_WEBAPP_RESPONSE_BYTES,
  type RedeemRequest,
  WEBAPP_ERRORS,
  type WebappGrant,
  WebappRedeemer,
  type WebappRedeemerOptions,
} from './webapp.js';
