import type { DeploymentSpec } from '@llmops/spec';

/**
 * What a serving backend (the local model server, KServe, Ray Serve) does for the platform. An endpoint has
 * one or more *revisions*: one per model version rolled out to it. The deployment workflow deploys a revision,
 * waits until it is ready, shifts traffic between revisions and removes the ones no longer needed; the
 * inference proxy asks the backend where to send each request.
 *
 * Every method is idempotent (a deploy of a revision already deployed changes nothing) so that workflow
 * activities can be retried, and names of external objects are derived from the endpoint and revision ids.
 */
export interface RevisionDeployment {
  endpointId: string;
  /** Stable id of this revision (one per rollout of a model version to the endpoint). */
  revisionId: string;
  projectSlug: string;
  /** Endpoint name when it has one (Kubernetes object names follow it). */
  endpointName: string | null;
  spec: DeploymentSpec;
  model: {
    /** Catalog model name (= DeploymentSpec.model_ref). */
    name: string;
    version: string;
    /** Where the model files are: `s3://bucket/key` in the artifact store, or a `file://` directory. */
    storageUri: string | null;
  };
  /** Image chosen by the platform for this deployment (used by cluster backends). */
  image: string;
  /** Number of model server replicas to run. */
  replicas: number;
}

export type ReplicaState = 'starting' | 'ready' | 'failed' | 'stopped';

export interface ReplicaStatus {
  /** Stable within the revision, e.g. `r0`. */
  id: string;
  state: ReplicaState;
  /** Base URL of the replica's OpenAI-compatible API (no trailing slash), when known. */
  url: string | null;
  /** Why it failed or is not ready, in words a user can act on. */
  message: string | null;
  restarts: number;
}

export type RevisionState = 'deploying' | 'ready' | 'failed' | 'removed';

export interface RevisionStatus {
  endpointId: string;
  revisionId: string;
  state: RevisionState;
  replicas: ReplicaStatus[];
  /** The last error or condition message, when the revision is not ready. */
  message: string | null;
  /** Backend-specific facts shown in endpoint status (e.g. InferenceService URL, conditions). */
  details?: Record<string, unknown>;
}

/** Share of traffic per revision id, in percent, summing to 100. */
export type TrafficWeights = Record<string, number>;

export interface ServingDriver {
  readonly name: 'local' | 'kserve' | 'ray';
  /**
   * True when the backend splits traffic between revisions itself (KServe canaryTrafficPercent): the proxy
   * then sends every request to `target(endpointId, any revision)` and `setTraffic` tells the backend.
   * False (local): the platform's router picks the revision per request.
   */
  readonly splitsTraffic: boolean;
  /** Starts (or, when already there, leaves alone) the revision's replicas. Returns without waiting. */
  deploy(d: RevisionDeployment): Promise<RevisionStatus>;
  status(endpointId: string, revisionId: string): Promise<RevisionStatus>;
  /** Resolves when the revision is ready, or with its failed status; rejects only on timeout/abort. */
  waitReady(
    endpointId: string,
    revisionId: string,
    opts: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<RevisionStatus>;
  /** Backends that split traffic themselves apply the weights; the others ignore the call. */
  setTraffic(endpointId: string, weights: TrafficWeights): Promise<void>;
  /** Stops the revision's replicas and deletes what it created. Removing a removed revision is a no-op. */
  remove(endpointId: string, revisionId: string): Promise<void>;
  /**
   * Base URL for one request to the revision (round robin over ready replicas), or null when no replica is
   * ready. Synchronous and cheap: it is on the request path.
   */
  target(endpointId: string, revisionId: string): string | null;
  /** Stops everything this process started (platform shutdown). */
  close(): Promise<void>;
}
