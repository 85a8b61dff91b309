/** Why a DeploymentSpec (or a manifest read back) could not be converted. */
export type ConversionErrorCode =
  | 'STORAGE_URI_MISSING'
  | 'STORAGE_URI_UNSUPPORTED'
  | 'GPU_COUNT_EXCEEDS_GPU_TYPE'
  | 'GPU_MEMORY_EXCEEDS_GPU_TYPE'
  | 'GPU_TYPE_MISSING'
  | 'NAME_NOT_DNS_1035'
  | 'DEPLOYMENT_MODE_UNSUPPORTED'
  | 'CONTEXT_INVALID'
  | 'MANIFEST_INVALID';

/**
 * A conversion failure. `field` names what has to change: a DeploymentSpec field
 * (`deploymentSpec.resources.gpus`), a field of the conversion context (`storageUri`, `name`) or, when a
 * manifest is read back, the manifest path (`spec.predictor.model.storageUri`).
 */
export class ConversionError extends Error {
  readonly code: ConversionErrorCode;
  readonly field: string;

  constructor(code: ConversionErrorCode, field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ConversionError';
    this.code = code;
    this.field = field;
  }
}

export function isConversionError(e: unknown): e is ConversionError {
  return e instanceof Error && e.name === 'ConversionError' && 'field' in e && 'code' in e;
}
