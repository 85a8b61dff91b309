-- Serving: the revisions of an endpoint (one per model version rolled out to it) with their share of the
-- traffic, and the endpoint's event log (deploys, traffic shifts, health verdicts, rollbacks).

CREATE TABLE endpoint_revisions (
  id uuid PRIMARY KEY,
  endpoint_id uuid NOT NULL REFERENCES serving_endpoints (id) ON DELETE CASCADE,
  project_id uuid NOT NULL REFERENCES projects (id),
  -- 1, 2, 3… per endpoint, in the order the rollouts were asked for.
  seq integer NOT NULL,
  model_id uuid REFERENCES catalog_models (id),
  model_ref text NOT NULL,
  model_version text NOT NULL,
  storage_uri text,
  spec jsonb NOT NULL,
  replicas integer NOT NULL DEFAULT 1 CHECK (replicas BETWEEN 0 AND 64),
  -- How this revision is rolled out: blue-green, canary (weighted), shadow (mirrored, answers discarded),
  -- ab (split by a hash of the caller).
  mode text NOT NULL CHECK (mode IN ('blue-green', 'canary', 'shadow', 'ab')),
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'deploying', 'ready', 'serving', 'standby', 'failed', 'rolled_back', 'retired', 'removed')),
  -- Share of live traffic in percent; the serving revisions of an endpoint sum to 100.
  traffic integer NOT NULL DEFAULT 0 CHECK (traffic BETWEEN 0 AND 100),
  -- Receives a copy of the traffic whose answers are discarded.
  shadow boolean NOT NULL DEFAULT false,
  message text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT endpoint_revisions_seq_key UNIQUE (endpoint_id, seq)
);
CREATE INDEX endpoint_revisions_endpoint_idx ON endpoint_revisions (endpoint_id, seq DESC);

CREATE TABLE endpoint_events (
  seq bigserial PRIMARY KEY,
  endpoint_id uuid NOT NULL REFERENCES serving_endpoints (id) ON DELETE CASCADE,
  revision_id uuid REFERENCES endpoint_revisions (id) ON DELETE CASCADE,
  type text NOT NULL,
  message text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}',
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX endpoint_events_endpoint_idx ON endpoint_events (endpoint_id, seq);
