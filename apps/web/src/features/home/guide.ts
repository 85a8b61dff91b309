// The commands of the Getting Started guide, for the platform that serves the console. They are the
// README's quickstart (step 4: a tiny model trained on CPU in seconds), run from the repository folder.

const JOB = {
  jobType: 'pretrain',
  trainJobSpec: {
    job_type: 'PRETRAIN',
    model_family: 'llama',
    base_model_ref: null,
    dataset_ref: {
      name: 'corpus',
      version: 'v1',
      type: 'pretrain_corpus',
      storage_uri: 's3://datasets/default/corpus/v1',
    },
    hyperparams: { lr: 0.003, batch_size: 8, num_epochs: 3, max_seq_len: 64, precision: 'bf16' },
    method: 'full',
    resources: { gpus: 0, gpu_type: 'T4', nodes: 1 },
    output: { artifact_name: 'tiny-llama-pretrained', save_format: 'safetensors' },
    use_gpu: false,
  },
};

const ENDPOINT = {
  route: '/tiny-llama',
  environment: 'dev',
  deploymentSpec: {
    model_ref: 'tiny-llama-pretrained',
    model_family: 'llama',
    job_type: 'PRETRAIN',
    serve_target: 'GENERATION',
    resources: { gpus: 0, gpu_memory_gb: 1 },
    runtime: { max_concurrent_requests: 4, max_input_tokens: 64, max_output_tokens: 32 },
    rollout: { strategy: 'canary', traffic_split: { old: 90, new: 10 } },
    use_gpu: false,
  },
};

export interface GuideStep {
  title: string;
  text: string;
  /** The console page that does the same, one click away. */
  link: { to: string; label: string };
  cli: string;
  curl: string;
}

export function guideSteps(origin: string): GuideStep[] {
  const env = `export LLMOPS_URL=${origin}\nexport API=${origin}/llm-ops/v1 TOKEN=$(cat .llmops/admin-token)`;
  const auth = '-H "Authorization: Bearer $TOKEN"';
  const json = "-H 'Content-Type: application/json'";
  return [
    {
      title: 'Register a dataset',
      text: 'Generate a tiny corpus with the runtime, then upload it: every row is checked against its type and the file is stored with its SHA-256.',
      link: { to: '/catalog/datasets', label: 'Upload in Datasets' },
      cli: `${env}\n.llmops/venv/bin/python -m llmops_runtime.testdata /tmp/llmops-data\nnpm run -s llmops -- datasets create corpus v1 --type pretrain_corpus --file /tmp/llmops-data/data/corpus.jsonl`,
      curl: `${env}\n.llmops/venv/bin/python -m llmops_runtime.testdata /tmp/llmops-data\ncurl -s -X POST $API/catalog/datasets ${auth} \\\n  -F name=corpus -F version=v1 -F type=pretrain_corpus -F file=@/tmp/llmops-data/data/corpus.jsonl`,
    },
    {
      title: 'Submit a first job',
      text: 'Pre-train a tiny llama from scratch on the CPU. Base models for fine-tuning are registered under Models; the form checks every rule as you type.',
      link: { to: '/training/jobs/new', label: 'Open the submit form' },
      cli: `cat > job.json <<'JSON'\n${JSON.stringify(JOB, null, 2)}\nJSON\nnpm run -s llmops -- submit -f job.json`,
      curl: `curl -s -X POST $API/training/jobs ${auth} ${json} \\\n  -d '${JSON.stringify(JOB)}'`,
    },
    {
      title: 'Watch it run',
      text: 'The job page shows its state timeline, queue position, live log, loss curves and the controls (pause, resume, cancel, retry, priority). A finished job registers tiny-llama-pretrained in the catalog with its lineage.',
      link: { to: '/training/jobs', label: 'See the jobs' },
      cli: 'npm run -s llmops -- jobs list\nnpm run -s llmops -- jobs watch <jobId>\nnpm run -s llmops -- jobs logs <jobId> -f',
      curl: `curl -s $API/training/jobs ${auth}\ncurl -sN $API/training/jobs/<jobId>/logs/stream ${auth}`,
    },
    {
      title: 'Deploy it and try it',
      text: 'Create an endpoint for the trained model; the platform checks the DeploymentSpec, rolls the model out and shows its revisions, traffic and health. The endpoint page has a chat box; the same OpenAI-compatible call works with curl.',
      link: { to: '/serving/endpoints/new', label: 'Open the deploy form' },
      cli: `cat > endpoint.json <<'JSON'\n${JSON.stringify(ENDPOINT, null, 2)}\nJSON\nnpm run -s llmops -- endpoints create -f endpoint.json\nnpm run -s llmops -- endpoints list\nnpm run -s llmops -- chat ${ENDPOINT.route} -m 'Hello' --max-tokens 16`,
      curl: `curl -s -X POST $API/serving/endpoints ${auth} ${json} \\\n  -d '${JSON.stringify(ENDPOINT)}'\ncurl -s -X POST $API/serving/routes${ENDPOINT.route}/v1/chat/completions ${auth} ${json} \\\n  -d '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":16}'`,
    },
  ];
}
