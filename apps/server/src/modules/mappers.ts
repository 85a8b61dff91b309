import type { DatasetRow, EndpointRow, JobRow, ModelRow, TokenRow } from '@llmops/db';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Database rows → API resources. Explicit field lists: nothing reaches a client by accident. */

export const toModel = (m: ModelRow) => ({
  id: m.id,
  name: m.name,
  version: m.version,
  model_family: m.modelFamily,
  max_position_embeddings: m.maxPositionEmbeddings,
  parameter_count: m.parameterCount,
  storage_uri: m.storageUri,
  description: m.description,
  lineage: isRecord(m.metadata.lineage) ? m.metadata.lineage : null,
  created_by: m.createdBy,
  created_at: m.createdAt,
});

export const toDataset = (d: DatasetRow) => {
  const v = d.validation as {
    rows?: number;
    valid?: number;
    errors?: { row: number; message: string }[];
  } | null;
  return {
    id: d.id,
    name: d.name,
    version: d.version,
    type: d.type as never,
    storage_uri: d.storageUri,
    sha256: d.sha256,
    size_bytes: d.sizeBytes,
    row_count: d.rowCount,
    format: d.format,
    validation:
      v && typeof v.rows === 'number' ? { rows: v.rows, valid: v.valid ?? 0, errors: v.errors ?? [] } : null,
    created_by: d.createdBy,
    created_at: d.createdAt,
  };
};

export const toJob = (j: JobRow, pricePerGpuHour: (gpuType: string) => number | null) => {
  const submission = j.spec as { trainJobSpec?: { resources?: { gpu_type?: string } } };
  const price = submission.trainJobSpec?.resources?.gpu_type
    ? pricePerGpuHour(submission.trainJobSpec.resources.gpu_type)
    : null;
  return {
    id: j.id,
    projectId: j.projectId,
    status: j.status,
    jobType: j.submissionKind,
    trainJobType: j.jobType,
    modelId: j.modelId,
    datasetId: j.datasetId,
    priority: j.priority,
    submission: j.spec as never,
    specHash: j.specHash,
    image: j.image,
    imageVariant: j.imageVariant as 'gpu' | 'cpu' | null,
    imageReason: j.imageReason,
    estimates: {
      gpuMemoryPerGpuGib: j.gpuMemoryEstimateGib,
      gpuHours: j.gpuHoursEstimate,
      costUsd:
        j.gpuHoursEstimate !== null && price !== null
          ? Math.round(j.gpuHoursEstimate * price * 100) / 100
          : null,
    },
    compliance: {
      compliant: j.compliance.compliant,
      violations: j.compliance.violations as never,
      checkedAt: j.complianceCheckedAt,
    },
    createdBy: j.createdBy,
    createdAt: j.createdAt,
    updatedAt: j.updatedAt,
  };
};

export const toEndpoint = (e: EndpointRow) => ({
  id: e.id,
  projectId: e.projectId,
  name: e.name,
  route: e.route,
  environment: e.environment as 'dev' | 'stg' | 'prod',
  modelId: e.modelId,
  status: e.status,
  deploymentSpec: e.spec as never,
  image: e.image,
  imageVariant: e.imageVariant as 'gpu' | 'cpu',
  imageReason: e.imageReason,
  compliance: {
    compliant: e.compliance.compliant,
    violations: e.compliance.violations as never,
    checkedAt: e.complianceCheckedAt,
  },
  createdBy: e.createdBy,
  createdAt: e.createdAt,
  updatedAt: e.updatedAt,
});

export const toToken = (t: TokenRow) => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  userId: t.userId,
  defaultProjectId: t.defaultProjectId,
  createdAt: t.createdAt,
  lastUsedAt: t.lastUsedAt,
  expiresAt: t.expiresAt,
  revokedAt: t.revokedAt,
});

export const ok = <T>(message: string, data: T) => ({ status: 'success' as const, message, data });
