import { DATASET_TYPE_FOR_JOB, type JobType } from '../enums.ts';
import { HPO_TUNABLE_PARAMS, type TrainingSubmission } from '../submissions.ts';
import { estimateGpuMemory } from './fit.ts';
import {
  violation,
  type CatalogDatasetInfo,
  type CatalogModelInfo,
  type Rule,
  type RuleContext,
  type RuleViolation,
} from './types.ts';

/** Catalog lookups resolved before the (pure) rules run. */
export interface TrainingLookups {
  /** The catalog model named by base_model_ref (null when absent or not found). */
  baseModel: CatalogModelInfo | null;
  /** The catalog dataset named by dataset_ref name + version (null when not found). */
  dataset: CatalogDatasetInfo | null;
  /** Present when the body carries modelId. */
  modelById?: CatalogModelInfo | null;
  /** Present when the body carries datasetId. */
  datasetById?: CatalogDatasetInfo | null;
}

export interface TrainingRuleContext extends RuleContext {
  lookups: TrainingLookups;
}

type TrainingRule = Rule<TrainingSubmission, TrainingRuleContext>;
const P = 'trainJobSpec';
const ok: RuleViolation[] = [];

const KIND_JOB_TYPES: Record<TrainingSubmission['jobType'], readonly JobType[]> = {
  pretrain: ['PRETRAIN'],
  finetune: ['SFT', 'RAG_TUNING', 'EMBEDDING', 'RLHF'],
  retrain: ['PRETRAIN', 'SFT', 'RAG_TUNING', 'EMBEDDING', 'RLHF'],
  hpo: ['SFT', 'RAG_TUNING', 'EMBEDDING', 'RLHF', 'PRETRAIN'],
  rlhf: ['RLHF'],
};

export const submissionKindMatchesJobType: TrainingRule = {
  name: 'submissionKindMatchesJobType',
  codes: ['SUBMISSION_KIND_MISMATCH'],
  check(body) {
    const allowed = KIND_JOB_TYPES[body.jobType];
    const jt = body.trainJobSpec.job_type;
    return allowed.includes(jt)
      ? ok
      : [
          violation(
            'SUBMISSION_KIND_MISMATCH',
            `${P}.job_type`,
            `jobType '${body.jobType}' cannot run job_type '${jt}' (allowed: ${allowed.join(', ')})`,
          ),
        ];
  },
};

export const modelFamilyWhitelisted: TrainingRule = {
  name: 'modelFamilyWhitelisted',
  codes: ['MODEL_FAMILY_NOT_SUPPORTED'],
  check(body, ctx) {
    const family = body.trainJobSpec.model_family;
    return ctx.families[family] ? ok : [familyNotSupported(family, `${P}.model_family`, ctx)];
  },
};

export function familyNotSupported(family: string, path: string, ctx: RuleContext): RuleViolation {
  const known = Object.keys(ctx.families).sort().join(', ');
  return violation(
    'MODEL_FAMILY_NOT_SUPPORTED',
    path,
    `Model family '${family}' is not supported (supported: ${known})`,
  );
}

export const familyAllowsJobType: TrainingRule = {
  name: 'familyAllowsJobType',
  codes: ['JOB_TYPE_NOT_ALLOWED_FOR_FAMILY'],
  check(body, ctx) {
    const spec = body.trainJobSpec;
    const fam = ctx.families[spec.model_family];
    if (!fam || fam.allowedJobTypes.includes(spec.job_type)) return ok;
    return [
      violation(
        'JOB_TYPE_NOT_ALLOWED_FOR_FAMILY',
        `${P}.job_type`,
        `Model family '${spec.model_family}' does not allow job_type '${spec.job_type}' (allowed: ${fam.allowedJobTypes.join(', ')})`,
      ),
    ];
  },
};

export const datasetTypeMatchesJobType: TrainingRule = {
  name: 'datasetTypeMatchesJobType',
  codes: ['DATASET_TYPE_INCOMPATIBLE'],
  check(body) {
    const spec = body.trainJobSpec;
    const expected = DATASET_TYPE_FOR_JOB[spec.job_type];
    const out =
      spec.dataset_ref.type === expected
        ? []
        : [datasetTypeIncompatible(spec.dataset_ref.type, spec.job_type, `${P}.dataset_ref.type`)];
    if (body.jobType === 'rlhf' && body.rlhfSpec.reward_model.dataset_ref.type !== 'rlhf_pair') {
      out.push(
        violation(
          'DATASET_TYPE_INCOMPATIBLE',
          'rlhfSpec.reward_model.dataset_ref.type',
          `Dataset type '${body.rlhfSpec.reward_model.dataset_ref.type}' is not compatible with the reward model (expected 'rlhf_pair')`,
        ),
      );
    }
    return out;
  },
};

function datasetTypeIncompatible(type: string, jobType: JobType, path: string): RuleViolation {
  return violation(
    'DATASET_TYPE_INCOMPATIBLE',
    path,
    `Dataset type '${type}' is not compatible with job_type '${jobType}' (expected '${DATASET_TYPE_FOR_JOB[jobType]}')`,
  );
}

export const baseModelPresence: TrainingRule = {
  name: 'baseModelPresence',
  codes: ['BASE_MODEL_NOT_ALLOWED', 'BASE_MODEL_REQUIRED'],
  check(body) {
    const spec = body.trainJobSpec;
    const path = `${P}.base_model_ref`;
    if (spec.job_type === 'PRETRAIN' && spec.base_model_ref !== null)
      return [
        violation(
          'BASE_MODEL_NOT_ALLOWED',
          path,
          'PRETRAIN starts from scratch: base_model_ref must be null',
        ),
      ];
    if (spec.job_type !== 'PRETRAIN' && spec.base_model_ref === null)
      return [
        violation(
          'BASE_MODEL_REQUIRED',
          path,
          `job_type '${spec.job_type}' requires base_model_ref (a catalog model name)`,
        ),
      ];
    return ok;
  },
};

export const baseModelResolves: TrainingRule = {
  name: 'baseModelResolves',
  codes: ['BASE_MODEL_NOT_FOUND', 'BASE_MODEL_FAMILY_MISMATCH'],
  check(body, ctx) {
    const spec = body.trainJobSpec;
    if (spec.base_model_ref === null) return ok;
    const path = `${P}.base_model_ref`;
    const model = ctx.lookups.baseModel;
    if (!model)
      return [
        violation(
          'BASE_MODEL_NOT_FOUND',
          path,
          `Base model '${spec.base_model_ref}' is not in this project's catalog; register it with POST /llm-ops/v1/catalog/models first`,
        ),
      ];
    if (model.modelFamily !== spec.model_family)
      return [
        violation(
          'BASE_MODEL_FAMILY_MISMATCH',
          path,
          `Base model '${model.name}' is of family '${model.modelFamily}', not '${spec.model_family}'`,
        ),
      ];
    return ok;
  },
};

export const pretrainOnlyFull: TrainingRule = {
  name: 'pretrainOnlyFull',
  codes: ['METHOD_NOT_ALLOWED'],
  check(body) {
    const spec = body.trainJobSpec;
    return spec.job_type === 'PRETRAIN' && spec.method !== 'full'
      ? [
          violation(
            'METHOD_NOT_ALLOWED',
            `${P}.method`,
            `PRETRAIN allows only method 'full', not '${spec.method}'`,
          ),
        ]
      : ok;
  },
};

export const maxSeqLenWithinModel: TrainingRule = {
  name: 'maxSeqLenWithinModel',
  codes: ['MAX_SEQ_LEN_EXCEEDS_MODEL'],
  check(body, ctx) {
    const spec = body.trainJobSpec;
    const model = ctx.lookups.baseModel;
    if (!model || spec.hyperparams.max_seq_len <= model.maxPositionEmbeddings) return ok;
    return [
      violation(
        'MAX_SEQ_LEN_EXCEEDS_MODEL',
        `${P}.hyperparams.max_seq_len`,
        `${spec.job_type} max_seq_len must be <= base_model.max_position_embeddings (${spec.hyperparams.max_seq_len} > ${model.maxPositionEmbeddings} for '${model.name}')`,
      ),
    ];
  },
};

export const gpuTypeConfigured: TrainingRule = {
  name: 'gpuTypeConfigured',
  codes: ['GPU_TYPE_NOT_AVAILABLE'],
  check(body, ctx) {
    const gpuType = body.trainJobSpec.resources.gpu_type;
    if (ctx.gpuTypes.some((g) => g.name === gpuType)) return ok;
    return [
      violation(
        'GPU_TYPE_NOT_AVAILABLE',
        `${P}.resources.gpu_type`,
        `GPU type '${gpuType}' is not available in environment '${ctx.environment}' (available: ${ctx.gpuTypes.map((g) => g.name).join(', ')})`,
      ),
    ];
  },
};

export const useGpuNeedsGpus: TrainingRule = {
  name: 'useGpuNeedsGpus',
  codes: ['GPU_REQUIRED_FOR_USE_GPU'],
  check(body) {
    const spec = body.trainJobSpec;
    return spec.use_gpu && spec.resources.gpus === 0
      ? [
          violation(
            'GPU_REQUIRED_FOR_USE_GPU',
            `${P}.resources.gpus`,
            'use_gpu is true but resources.gpus is 0; request at least one GPU or set use_gpu to false',
          ),
        ]
      : ok;
  },
};

export const resourcesWithinPolicy: TrainingRule = {
  name: 'resourcesWithinPolicy',
  codes: ['RESOURCES_EXCEED_POLICY'],
  check(body, ctx) {
    const r = body.trainJobSpec.resources;
    const out: RuleViolation[] = [];
    const gpuType = ctx.gpuTypes.find((g) => g.name === r.gpu_type);
    if (gpuType?.maxPerNode !== undefined && r.gpus > gpuType.maxPerNode)
      out.push(
        violation(
          'RESOURCES_EXCEED_POLICY',
          `${P}.resources.gpus`,
          `resources.gpus ${r.gpus} exceeds the ${gpuType.maxPerNode} ${gpuType.name} GPUs one node offers`,
        ),
      );
    else if (r.gpus * r.nodes > ctx.policies.maxGpusPerJob)
      out.push(
        violation(
          'RESOURCES_EXCEED_POLICY',
          `${P}.resources.gpus`,
          `resources.gpus × nodes = ${r.gpus * r.nodes} exceeds the limit of ${ctx.policies.maxGpusPerJob} GPUs per job`,
        ),
      );
    if (r.nodes > ctx.policies.maxNodesPerJob)
      out.push(
        violation(
          'RESOURCES_EXCEED_POLICY',
          `${P}.resources.nodes`,
          `resources.nodes ${r.nodes} exceeds the limit of ${ctx.policies.maxNodesPerJob}`,
        ),
      );
    return out;
  },
};

export const fitsGpuMemory: TrainingRule = {
  name: 'fitsGpuMemory',
  codes: ['FIT_EXCEEDS_GPU_MEMORY'],
  check(body, ctx) {
    const spec = body.trainJobSpec;
    const gpuType = ctx.gpuTypes.find((g) => g.name === spec.resources.gpu_type);
    const model = ctx.lookups.baseModel;
    if (!ctx.policies.fitCheck.enabled || !spec.use_gpu || !gpuType || !model || spec.resources.gpus === 0)
      return ok;
    const est = estimateGpuMemory({
      parameterCount: model.parameterCount,
      method: spec.method,
      precision: spec.hyperparams.precision,
      maxSeqLen: spec.hyperparams.max_seq_len,
      batchSize: spec.hyperparams.batch_size,
      gpus: spec.resources.gpus,
      nodes: spec.resources.nodes,
    });
    const usable = Math.round(gpuType.memoryGib * ctx.policies.fitCheck.headroom * 100) / 100;
    if (est.perGpuGib <= usable) return ok;
    return [
      violation(
        'FIT_EXCEEDS_GPU_MEMORY',
        `${P}.resources`,
        `Estimated ${est.perGpuGib} GiB per GPU (model states ${est.modelStatesGib} + activations ${est.activationsGib} + overhead ${est.overheadGib}) exceeds the ${usable} GiB usable on ${gpuType.name} (${gpuType.memoryGib} GiB × ${ctx.policies.fitCheck.headroom}); use more GPUs, lora/qlora, a smaller batch_size or max_seq_len`,
      ),
    ];
  },
};

export const datasetResolves: TrainingRule = {
  name: 'datasetResolves',
  codes: ['DATASET_NOT_FOUND', 'DATASET_REF_MISMATCH'],
  check(body, ctx) {
    const ref = body.trainJobSpec.dataset_ref;
    const { dataset, datasetById } = ctx.lookups;
    const out: RuleViolation[] = [];
    if (body.datasetId !== undefined && !datasetById)
      out.push(
        violation(
          'DATASET_NOT_FOUND',
          'datasetId',
          `Dataset '${body.datasetId}' is not in this project's catalog`,
        ),
      );
    if (!dataset) {
      out.push(
        violation(
          'DATASET_NOT_FOUND',
          `${P}.dataset_ref`,
          `Dataset '${ref.name}' version '${ref.version}' is not in this project's catalog; register it with POST /llm-ops/v1/catalog/datasets first`,
        ),
      );
      return out;
    }
    if (dataset.type !== ref.type)
      out.push(
        violation(
          'DATASET_REF_MISMATCH',
          `${P}.dataset_ref.type`,
          `dataset_ref.type is '${ref.type}' but catalog dataset '${ref.name}' ${ref.version} is '${dataset.type}'`,
        ),
      );
    if (datasetById && datasetById.id !== dataset.id)
      out.push(
        violation(
          'DATASET_REF_MISMATCH',
          'datasetId',
          `datasetId names '${datasetById.name}' ${datasetById.version} but dataset_ref names '${ref.name}' ${ref.version}`,
        ),
      );
    return out;
  },
};

export const modelIdMatches: TrainingRule = {
  name: 'modelIdMatches',
  codes: ['MODEL_NOT_FOUND', 'MODEL_REF_MISMATCH'],
  check(body, ctx) {
    if (body.modelId === undefined) return ok;
    const byId = ctx.lookups.modelById;
    if (!byId)
      return [
        violation('MODEL_NOT_FOUND', 'modelId', `Model '${body.modelId}' is not in this project's catalog`),
      ];
    const base = ctx.lookups.baseModel;
    if (body.trainJobSpec.base_model_ref !== null && base && base.id !== byId.id)
      return [
        violation(
          'MODEL_REF_MISMATCH',
          'modelId',
          `modelId names '${byId.name}' but base_model_ref is '${body.trainJobSpec.base_model_ref}'`,
        ),
      ];
    return ok;
  },
};

export const hpoSearchSpaceValid: TrainingRule = {
  name: 'hpoSearchSpaceValid',
  codes: [
    'HPO_PARAM_NOT_TUNABLE',
    'HPO_RANGE_INVALID',
    'HPO_GRID_NOT_DISCRETE',
    'HPO_PARALLELISM_EXCEEDS_TRIALS',
  ],
  check(body) {
    if (body.jobType !== 'hpo') return ok;
    const hpo = body.hpoSpec;
    const out: RuleViolation[] = [];
    const tunable: readonly string[] = HPO_TUNABLE_PARAMS;
    for (const [key, param] of Object.entries(hpo.search_space)) {
      const path = `hpoSpec.search_space.${key}`;
      if (!tunable.includes(key))
        out.push(
          violation(
            'HPO_PARAM_NOT_TUNABLE',
            path,
            `'${key}' is not tunable (tunable: ${HPO_TUNABLE_PARAMS.join(', ')})`,
          ),
        );
      if (param.type !== 'categorical' && !(param.low < param.high))
        out.push(
          violation(
            'HPO_RANGE_INVALID',
            path,
            `'${key}' needs low < high (got ${param.low} … ${param.high})`,
          ),
        );
      if (param.type === 'float' && param.log && param.low <= 0)
        out.push(violation('HPO_RANGE_INVALID', path, `'${key}' uses a log scale, so low must be > 0`));
      if (hpo.algorithm === 'grid' && param.type === 'float')
        out.push(
          violation(
            'HPO_GRID_NOT_DISCRETE',
            path,
            `grid search cannot enumerate the float range '${key}'; use int or categorical`,
          ),
        );
    }
    if (Object.keys(hpo.search_space).length === 0)
      out.push(
        violation('HPO_RANGE_INVALID', 'hpoSpec.search_space', 'search_space needs at least one parameter'),
      );
    if (hpo.parallelism > hpo.max_trials)
      out.push(
        violation(
          'HPO_PARALLELISM_EXCEEDS_TRIALS',
          'hpoSpec.parallelism',
          `parallelism ${hpo.parallelism} exceeds max_trials ${hpo.max_trials}`,
        ),
      );
    return out;
  },
};

/** Every TrainJobSpec rule, in the order their violations are reported. */
export const TRAINING_RULES: readonly TrainingRule[] = [
  submissionKindMatchesJobType,
  modelFamilyWhitelisted,
  familyAllowsJobType,
  datasetTypeMatchesJobType,
  baseModelPresence,
  baseModelResolves,
  pretrainOnlyFull,
  maxSeqLenWithinModel,
  gpuTypeConfigured,
  useGpuNeedsGpus,
  resourcesWithinPolicy,
  fitsGpuMemory,
  datasetResolves,
  modelIdMatches,
  hpoSearchSpaceValid,
];

export function checkTrainingSubmission(body: TrainingSubmission, ctx: TrainingRuleContext): RuleViolation[] {
  return TRAINING_RULES.flatMap((rule) => rule.check(body, ctx));
}
