-- Model registry: the history of stage alias moves (dev, staging, prod) on MLflow registered models.
-- MLflow holds the aliases themselves; this table remembers where an alias pointed before each move,
-- which MLflow does not keep, so that a rollback can move it back. One row per move, append-only.

CREATE TABLE registry_alias_moves (
  seq bigserial PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  project_id uuid NOT NULL REFERENCES projects (id),
  model_name text NOT NULL,
  alias text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('promote', 'rollback')),
  from_version text,
  to_version text NOT NULL,
  -- A rollback names the promote it undid; each promote is undone at most once.
  reverts_id uuid UNIQUE REFERENCES registry_alias_moves (id),
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT registry_alias_moves_reverts_kind CHECK ((kind = 'rollback') = (reverts_id IS NOT NULL))
);
CREATE INDEX registry_alias_moves_alias_idx ON registry_alias_moves (model_name, alias, seq DESC);
