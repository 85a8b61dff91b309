-- Experiment tracking: the MLflow run of each job and a transactional outbox of what MLflow still has to
-- receive. Outbox rows are written by a trigger on job_events, in the same transaction as the event that
-- causes them, so every writer (worker, API, backfill) is covered and nothing is lost between the two.

ALTER TABLE training_jobs
  ADD COLUMN mlflow_experiment_id text,
  ADD COLUMN mlflow_run_id text,
  ADD COLUMN mlflow_model_version text,
  ADD COLUMN tracking_status text NOT NULL DEFAULT 'ok'
    CHECK (tracking_status IN ('ok', 'degraded', 'disabled')),
  ADD COLUMN tracking_error text,
  ADD COLUMN tracking_updated_at timestamptz;

ALTER TABLE catalog_models ADD COLUMN mlflow_model_version text;

-- One row per thing to deliver, delivered per job in id order. Delivered rows are deleted; a row MLflow
-- rejects for good is moved aside (dead_at set) so it no longer blocks the job's queue.
CREATE TABLE tracking_outbox (
  id bigserial PRIMARY KEY,
  job_id uuid NOT NULL REFERENCES training_jobs (id),
  kind text NOT NULL
    CHECK (kind IN ('run_start', 'metrics', 'checkpoint', 'artifact', 'job_artifacts', 'model_version', 'run_end')),
  payload jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  dead_at timestamptz
);
CREATE INDEX tracking_outbox_job_idx ON tracking_outbox (job_id, id) WHERE dead_at IS NULL;
CREATE INDEX tracking_outbox_dead_idx ON tracking_outbox (job_id) WHERE dead_at IS NOT NULL;

-- The outbox rows an event stands for (also used by the backfill, which replays stored events).
CREATE FUNCTION tracking_outbox_rows(ev job_events)
RETURNS TABLE (kind text, payload jsonb)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF ev.type = 'status_changed' THEN
    IF ev.to_status = 'RUNNING' THEN
      kind := 'run_start';
      payload := jsonb_build_object('event_id', ev.id, 'at', ev.created_at);
      RETURN NEXT;
    ELSIF ev.to_status IN ('SUCCEEDED', 'FAILED', 'CANCELLED') THEN
      IF ev.to_status = 'SUCCEEDED' THEN
        kind := 'job_artifacts';
        payload := jsonb_build_object('event_id', ev.id, 'attempt', ev.detail -> 'attempt', 'model', ev.detail -> 'model');
        RETURN NEXT;
        kind := 'model_version';
        payload := jsonb_build_object('event_id', ev.id, 'model', ev.detail -> 'model');
        RETURN NEXT;
      END IF;
      kind := 'run_end';
      payload := jsonb_build_object('event_id', ev.id, 'status', ev.to_status, 'at', ev.created_at);
      RETURN NEXT;
    END IF;
  ELSIF ev.type = 'metrics' AND jsonb_typeof(ev.detail -> 'points') = 'array' THEN
    kind := 'metrics';
    payload := jsonb_build_object('event_id', ev.id, 'at', ev.created_at, 'points', ev.detail -> 'points');
    RETURN NEXT;
  ELSIF ev.type = 'checkpoint' AND ev.detail ? 'path' THEN
    kind := 'checkpoint';
    payload := jsonb_build_object('event_id', ev.id, 'step', ev.detail -> 'step', 'path', ev.detail -> 'path');
    RETURN NEXT;
  ELSIF ev.type = 'artifact' AND ev.detail ? 'path' AND ev.detail ->> 'kind' IN ('tokenizer', 'report') THEN
    -- The model and the log are uploaded by job_artifacts when the job succeeds.
    kind := 'artifact';
    payload := jsonb_build_object('event_id', ev.id, 'kind', ev.detail -> 'kind', 'path', ev.detail -> 'path');
    RETURN NEXT;
  END IF;
END;
$$;

CREATE FUNCTION tracking_outbox_capture() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tracking_outbox (job_id, kind, payload)
  SELECT NEW.job_id, r.kind, r.payload FROM tracking_outbox_rows(NEW) AS r;
  RETURN NULL;
END;
$$;

CREATE TRIGGER job_events_tracking_outbox
  AFTER INSERT ON job_events
  FOR EACH ROW EXECUTE FUNCTION tracking_outbox_capture();
