import { z } from 'zod';
import {
  ENVIRONMENTS,
  JOB_TYPES,
  SERVE_TARGETS,
  SERVE_TARGETS_FOR_JOB,
  jobTypeSchema,
  serveTargetSchema,
} from '@llmops/spec';
import type { Environment } from '@llmops/spec';

/**
 * A strict object with exactly one entry per key of an enum, so that adding a job type, serve target or
 * environment to the spec makes every configuration that forgot it fail at boot instead of at submission.
 */
function exhaustive<K extends string, S extends z.ZodType>(keys: readonly K[], value: S) {
  return z.strictObject(Object.fromEntries(keys.map((key) => [key, value])) as Record<K, S>);
}

// Docker reference grammar (distribution/reference): optional registry host, lower-case path
// components, then a tag and/or a sha256 digest.
const IMAGE_REF =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/;

export const imageRefSchema = z
  .string()
  .superRefine((ref, ctx) => {
    const match = IMAGE_REF.exec(ref);
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `"${ref}" is not a valid container image reference` });
      return;
    }
    const { tag, digest } = match.groups ?? {};
    if (!tag && !digest) {
      ctx.addIssue({
        code: 'custom',
        message: `"${ref}" must pin a tag or a digest (for example ":0.1.0-gpu" or "@sha256:…")`,
      });
    } else if (tag === 'latest' && !digest) {
      ctx.addIssue({
        code: 'custom',
        message: `"${ref}" uses the moving tag "latest"; pin a version or a digest`,
      });
    }
  })
  .describe('Container image reference with a pinned tag or digest, never "latest".');

export const imageVariantsSchema = z
  .strictObject({
    gpu: imageRefSchema.describe('Image used when the workload runs on GPUs (CUDA build).'),
    cpu: imageRefSchema.describe(
      'Image used when no GPU is requested, detected or allowed (CPU-only build).',
    ),
  })
  .describe('The GPU and CPU builds of one image; both are required.');

export const imagesSchema = z
  .strictObject({
    train: exhaustive(JOB_TYPES, imageVariantsSchema).describe(
      'Training runtime images keyed by TrainJobSpec job_type (FR-019).',
    ),
    serve: exhaustive(SERVE_TARGETS, imageVariantsSchema).describe(
      'Model server images keyed by DeploymentSpec serve_target (FR-022).',
    ),
  })
  .describe('Container images the platform chooses from; users can never pick their own (FR-027, FR-028).');

const VERSION = /^\d+\.\d+\.\d+$/;

export const modelFamilySchema = z
  .strictObject({
    hf_architectures: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9]*$/, 'must be a transformers class name such as LlamaForCausalLM'),
      )
      .min(1, 'list at least one architecture')
      .describe('Hugging Face `architectures` values (config.json) that belong to this family.'),
    min_transformers_version: z
      .string()
      .regex(VERSION, 'must be a version like "4.40.0"')
      .describe('Oldest transformers release that supports every listed architecture.'),
    allowed_job_types: z
      .array(jobTypeSchema)
      .min(1, 'list at least one job type')
      .describe('TrainJobSpec job types this family may be trained with (e.g. bert only EMBEDDING).'),
    serve_targets: z
      .array(serveTargetSchema)
      .describe('DeploymentSpec serve targets models of this family may be deployed as.'),
  })
  .superRefine((family, ctx) => {
    flagDuplicates(family.allowed_job_types, ['allowed_job_types'], ctx);
    flagDuplicates(family.serve_targets, ['serve_targets'], ctx);
    family.serve_targets.forEach((target, index) => {
      if (!family.allowed_job_types.some((jobType) => SERVE_TARGETS_FOR_JOB[jobType].includes(target))) {
        ctx.addIssue({
          code: 'custom',
          path: ['serve_targets', index],
          message: `serve target ${target} is not reachable from any allowed job type (${family.allowed_job_types.join(', ')})`,
        });
      }
    });
  })
  .describe('One supported model family: what it is made of and what it may be used for.');

export const gpuTypeSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a short identifier such as "A100"')
      .describe('Name users put in resources.gpu_type; also the node selector value on Kubernetes.'),
    memory_gib: z
      .number()
      .positive('must be a positive number of GiB')
      .describe('Memory of one GPU in GiB, used by the pre-flight fit check.'),
    price_per_gpu_hour: z
      .number()
      .nonnegative('must be a price in USD per GPU-hour, 0 or more')
      .describe('Cost of one GPU for one hour in USD, used for budgets and cost attribution.'),
    max_per_node: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(64, 'must be at most 64')
      .describe('How many GPUs of this type one node offers; bounds resources.gpus per node.'),
    peak_tflops: z
      .number()
      .positive('must be a positive number of TFLOPS')
      .optional()
      .describe('Dense bf16/fp16 tensor peak of one GPU in TFLOPS; only feeds the GPU-hour estimate.'),
  })
  .describe('One GPU type users may request.');

const gpuTypeListSchema = z
  .array(gpuTypeSchema)
  .min(1, 'list at least one GPU type')
  .superRefine((types, ctx) => {
    const seen = new Map<string, number>();
    types.forEach((type, index) => {
      const key = type.name.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `duplicate GPU type "${type.name}" (already listed at index ${first})`,
        });
      } else seen.set(key, index);
    });
  })
  .describe('GPU types offered in this environment.');

export const policiesSchema = z
  .strictObject({
    max_gpus_per_job: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .default(16)
      .describe('Largest number of GPUs a single job may request across all its nodes.'),
    max_nodes_per_job: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .default(4)
      .describe('Largest resources.nodes a single job may request.'),
    default_priority: z
      .number()
      .int('must be a whole number')
      .min(0, 'must be between 0 and 100')
      .max(100, 'must be between 0 and 100')
      .default(50)
      .describe('Queue priority of a job that does not set one (0 lowest, 100 highest).'),
    idempotency_ttl_hours: z
      .number()
      .int('must be a whole number')
      .min(24, 'must be at least 24 hours (SPEC C1 keeps keys for 24 h or more)')
      .default(48)
      .describe('How long an Idempotency-Key is remembered per project.'),
    fit_check: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe('Reject jobs whose memory estimate exceeds the requested GPUs.'),
        headroom: z
          .number()
          .gt(0, 'must be greater than 0')
          .max(1, 'must be at most 1')
          .default(0.9)
          .describe('Fraction of GPU memory a job may plan to use; the rest is kept for fragmentation.'),
      })
      .prefault({})
      .describe('Pre-flight GPU memory fit check.'),
    request_body_limit_bytes: z
      .number()
      .int('must be a whole number')
      .min(1024, 'must be at least 1024 bytes')
      .default(1024 * 1024)
      .describe('Largest JSON request body the API accepts.'),
    upload_limit_bytes: z
      .number()
      .int('must be a whole number')
      .min(1024, 'must be at least 1024 bytes')
      .default(256 * 1024 * 1024)
      .describe('Largest file upload (datasets) the API accepts.'),
  })
  .describe('Default limits and behaviour of the platform.');

/** The merged content of config/platform.yaml and one environment overlay. */
export const platformConfigSchema = z
  .strictObject({
    model_families: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_-]*$/, 'family names are lower-case identifiers such as "llama"'),
        modelFamilySchema,
      )
      .refine((families) => Object.keys(families).length > 0, 'list at least one model family')
      .describe('Whitelist of model families, keyed by the name used in model_family.'),
    images: imagesSchema,
    gpu_types: exhaustive(ENVIRONMENTS, gpuTypeListSchema).describe(
      'GPU types keyed by environment, so any environment can list the others (GET /training/gpu-types?env=).',
    ),
    policies: policiesSchema
      .prefault({})
      .describe('Default limits and behaviour of the platform; omitted fields take their defaults.'),
  })
  .describe('Platform configuration: model families, images, GPU types and policies.');

export type PlatformConfigFile = z.output<typeof platformConfigSchema>;
export type ModelFamilyConfig = z.output<typeof modelFamilySchema>;
export type GpuType = z.output<typeof gpuTypeSchema>;
export type ImageVariants = z.output<typeof imageVariantsSchema>;
export type Policies = z.output<typeof policiesSchema>;

/** The configuration resolved for one environment, as returned by loadPlatformConfig. */
export type PlatformConfig = PlatformConfigFile & {
  /** Environment whose overlay was applied; gpuTypesFor() defaults to it. */
  readonly environment: Environment;
  /** Files that were read, base first, as shown in error messages. */
  readonly sources: readonly string[];
};

function flagDuplicates(values: readonly string[], path: (string | number)[], ctx: z.RefinementCtx): void {
  values.forEach((value, index) => {
    if (values.indexOf(value) !== index) {
      ctx.addIssue({ code: 'custom', path: [...path, index], message: `"${value}" is listed twice` });
    }
  });
}
