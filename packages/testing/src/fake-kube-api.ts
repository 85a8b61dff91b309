import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  applyMergePatch,
  deepEqual,
  INFERENCE_SERVICES,
  RAY_SERVICES,
  validateAgainstCrd,
  type CustomResource,
  type KubeObject,
} from '@llmops/integrations-kubernetes';
import { applyPatch, type Operation } from 'rfc6902';
import { kubeStatus, matchesSelectors, type StatusBody } from './fake-kube-status.ts';

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoredEvent {
  rv: number;
  plural: string;
  namespace: string;
  type: EventType;
  object: KubeObject;
}

interface Watcher {
  plural: string;
  namespace: string;
  labelSelector: string | undefined;
  fieldSelector: string | undefined;
  res: ServerResponse;
}

export interface FakeRequest {
  method: string;
  path: string;
  status: number;
}

export interface FakeKubeApi {
  /** Base URL, e.g. http://127.0.0.1:40123 (no trailing slash). */
  url: string;
  /** The bearer token every request must carry. */
  token: string;
  /** What createKubeClient needs: `loadKubeConfig(api.connection)`. */
  connection: { kind: 'url'; server: string; token: string };
  /** The stored object (a copy), or null. */
  get(r: CustomResource, namespace: string, name: string): KubeObject | null;
  list(r: CustomResource, namespace?: string): KubeObject[];
  /**
   * Plays the controller: replaces the object's status (validated against the CRD like any write), bumps
   * its resourceVersion and sends MODIFIED to the watchers. `status` may be a function of the object.
   */
  setStatus(
    r: CustomResource,
    namespace: string,
    name: string,
    status: Record<string, unknown> | ((o: KubeObject) => Record<string, unknown>),
  ): KubeObject;
  /** Closes every open watch connection, as a restarting API server or a proxy timeout would. */
  dropWatches(): number;
  /** Open watch connections. */
  watchers(): number;
  /** The next `count` requests (of `method`, when given) are answered `status` (default 503). */
  failNext(count: number, opts?: { status?: 500 | 503 | 504 | 429; method?: string }): void;
  /** Cancels the failures failNext asked for that have not happened yet. */
  clearFailures(): void;
  /** Forgets the event history: a watch resuming from an older resourceVersion gets 410 Expired. */
  compact(): void;
  /** The current resourceVersion (the last write). */
  resourceVersion(): string;
  /** Every request answered, in order. */
  requests: FakeRequest[];
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json';

/**
 * A Kubernetes API server for tests, for namespaced custom resources (by default KServe
 * InferenceServices and KubeRay RayServices) on a free loopback port. It has the semantics the
 * platform relies on: a resourceVersion per write, 409 AlreadyExists and 409 Conflict on a stale
 * resourceVersion, 404 NotFound with a Status body, merge-patch and JSON-patch, status as a subresource
 * (writes to the object keep the stored status), metadata.generation bumped by spec changes, streaming
 * watches from a resourceVersion with 410 Expired once it is compacted, and every written object checked
 * against the official CRD schema (422 Invalid with the causes).
 */
export async function startFakeKubeApi(
  opts: { resources?: CustomResource[]; token?: string } = {},
): Promise<FakeKubeApi> {
  const resources = opts.resources ?? [INFERENCE_SERVICES, RAY_SERVICES];
  const token = opts.token ?? `fake-${randomUUID()}`;
  const store = new Map<string, KubeObject>();
  const history: StoredEvent[] = [];
  const watchers = new Set<Watcher>();
  const sockets = new Set<Socket>();
  const requests: FakeRequest[] = [];
  const failures: { status: number; method?: string }[] = [];
  let rv = 1;
  let compactedAt = 0;

  const key = (plural: string, ns: string, name: string) => `${plural}/${ns}/${name}`;
  const byPlural = (group: string, version: string, plural: string) =>
    resources.find((r) => r.group === group && r.version === version && r.plural === plural);

  function record(r: CustomResource, type: EventType, object: KubeObject) {
    const ns = object.metadata.namespace!;
    const event: StoredEvent = {
      rv: Number(object.metadata.resourceVersion),
      plural: r.plural,
      namespace: ns,
      type,
      object,
    };
    history.push(event);
    for (const w of watchers) send(w, event);
  }

  function send(w: Watcher, e: StoredEvent) {
    if (w.plural !== e.plural || w.namespace !== e.namespace) return;
    if (!matchesSelectors(e.object, w.labelSelector, w.fieldSelector)) return;
    w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
  }

  function validate(r: CustomResource, obj: KubeObject): StatusBody | null {
    const v = validateAgainstCrd(obj, r.crdFile);
    if (v.valid) return null;
    const causes = v.errors.map((e) => ({ reason: 'FieldValueInvalid', field: e.path, message: e.message }));
    return kubeStatus(
      422,
      'Invalid',
      `${r.kind}.${r.group} "${obj.metadata?.name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      { name: obj.metadata?.name, group: r.group, kind: r.plural, causes },
    );
  }

  /** Stores a new version of an object: resourceVersion, generation, validation, event. */
  function write(r: CustomResource, next: KubeObject, before: KubeObject | null): KubeObject | StatusBody {
    const invalid = validate(r, next);
    if (invalid) return invalid;
    const specChanged = !before || !deepEqual(before.spec, next.spec);
    next.metadata.resourceVersion = String(++rv);
    next.metadata.generation = (before?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
    store.set(key(r.plural, next.metadata.namespace!, next.metadata.name), next);
    record(r, before ? 'MODIFIED' : 'ADDED', next);
    return structuredClone(next);
  }

  const notFound = (r: CustomResource, name: string) =>
    kubeStatus(404, 'NotFound', `${r.plural}.${r.group} "${name}" not found`, {
      name,
      group: r.group,
      kind: r.plural,
    });

  function handleCreate(r: CustomResource, ns: string, body: KubeObject): KubeObject | StatusBody {
    const name = body?.metadata?.name;
    if (typeof name !== 'string' || !name)
      return kubeStatus(422, 'Invalid', `${r.kind}.${r.group} is invalid: metadata.name: Required value`);
    if (body.metadata.namespace && body.metadata.namespace !== ns)
      return kubeStatus(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    if (store.has(key(r.plural, ns, name)))
      return kubeStatus(409, 'AlreadyExists', `${r.plural}.${r.group} "${name}" already exists`, {
        name,
        group: r.group,
        kind: r.plural,
      });
    const obj = structuredClone(body);
    delete obj.status; // status is a subresource: a create cannot set it
    obj.metadata = {
      ...obj.metadata,
      namespace: ns,
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    delete obj.metadata.resourceVersion;
    return write(r, obj, null);
  }

  /** PUT or PATCH of the object or its status subresource, given the wanted object. */
  function handleReplace(
    r: CustomResource,
    current: KubeObject,
    wanted: KubeObject,
    subresource: string | undefined,
    requireRv: boolean,
  ): KubeObject | StatusBody {
    const name = current.metadata.name;
    const sentRv = wanted?.metadata?.resourceVersion;
    if (requireRv && !sentRv)
      return kubeStatus(
        422,
        'Invalid',
        `${r.kind}.${r.group} "${name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`,
      );
    if (sentRv !== undefined && sentRv !== current.metadata.resourceVersion)
      return kubeStatus(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${r.plural}.${r.group} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: r.group, kind: r.plural },
      );
    if (wanted?.metadata?.name !== undefined && wanted.metadata.name !== name)
      return kubeStatus(
        400,
        'BadRequest',
        `the name of the object (${String(wanted.metadata.name)}) does not match the name on the URL (${name})`,
      );
    const next: KubeObject =
      subresource === 'status'
        ? { ...structuredClone(current), status: structuredClone(wanted.status ?? {}) }
        : {
            ...structuredClone(wanted),
            metadata: {
              ...structuredClone(wanted.metadata ?? {}),
              name,
              namespace: current.metadata.namespace!,
              uid: current.metadata.uid!,
              creationTimestamp: current.metadata.creationTimestamp,
            },
            ...(current.status ? { status: structuredClone(current.status) } : {}),
          };
    if (subresource !== 'status' && !current.status) delete next.status;
    next.metadata.resourceVersion = current.metadata.resourceVersion!;
    next.metadata.generation = current.metadata.generation!;
    if (deepEqual(next, current)) return structuredClone(current); // a no-op write changes nothing
    return write(r, next, current);
  }

  function handleWatch(r: CustomResource, ns: string, q: URLSearchParams, res: ServerResponse) {
    const from = q.get('resourceVersion');
    const watcher: Watcher = {
      plural: r.plural,
      namespace: ns,
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
      res,
    };
    res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Transfer-Encoding': 'chunked' });
    if (from && from !== '0' && Number(from) < compactedAt) {
      const gone = kubeStatus(410, 'Expired', `too old resource version: ${from} (${compactedAt})`);
      res.end(`${JSON.stringify({ type: 'ERROR', object: gone })}\n`);
      return;
    }
    if (!from || from === '0') {
      for (const [k, o] of store)
        if (k.startsWith(`${r.plural}/${ns}/`))
          send(watcher, {
            rv: Number(o.metadata.resourceVersion),
            plural: r.plural,
            namespace: ns,
            type: 'ADDED',
            object: o,
          });
    } else for (const e of history) if (e.rv > Number(from)) send(watcher, e);
    watchers.add(watcher);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : null;
    res.on('close', () => {
      watchers.delete(watcher);
      if (timer) clearTimeout(timer);
    });
  }

  function route(
    req: IncomingMessage,
    body: string,
    res: ServerResponse,
  ): { status: number; body: unknown } | null {
    const url = new URL(req.url ?? '/', 'http://fake');
    const m = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(
      url.pathname,
    );
    const r = m ? byPlural(m[1]!, m[2]!, m[4]!) : undefined;
    if (!m || !r)
      return {
        status: 404,
        body: kubeStatus(404, 'NotFound', 'the server could not find the requested resource'),
      };
    const [, , , ns, , name, subresource] = m as unknown as string[];
    const method = req.method ?? 'GET';
    let parsed: unknown = undefined;
    if (body) {
      try {
        parsed = JSON.parse(body);
      } catch (e) {
        return {
          status: 400,
          body: kubeStatus(400, 'BadRequest', `the body is not JSON: ${(e as Error).message}`),
        };
      }
    }
    const answer = (out: KubeObject | StatusBody, ok = 200) =>
      'kind' in out && out.kind === 'Status' && (out as StatusBody).status === 'Failure'
        ? { status: (out as StatusBody).code, body: out }
        : { status: ok, body: out };

    if (!name) {
      if (method === 'GET' && url.searchParams.get('watch') === 'true') {
        handleWatch(r, ns!, url.searchParams, res);
        return null;
      }
      if (method === 'GET') {
        const items = [...store.entries()]
          .filter(([k]) => k.startsWith(`${r.plural}/${ns}/`))
          .map(([, o]) => o)
          .filter((o) =>
            matchesSelectors(
              o,
              url.searchParams.get('labelSelector') ?? undefined,
              url.searchParams.get('fieldSelector') ?? undefined,
            ),
          );
        return {
          status: 200,
          body: {
            apiVersion: `${r.group}/${r.version}`,
            kind: `${r.kind}List`,
            metadata: { resourceVersion: String(rv) },
            items,
          },
        };
      }
      if (method === 'POST') return answer(handleCreate(r, ns!, parsed as KubeObject), 201);
      return {
        status: 405,
        body: kubeStatus(405, 'MethodNotAllowed', `${method} is not allowed on a collection`),
      };
    }
    const current = store.get(key(r.plural, ns!, name));
    if (!current) return { status: 404, body: notFound(r, name) };
    if (method === 'GET') return { status: 200, body: subresource ? current : current };
    if (method === 'DELETE') {
      if (subresource)
        return { status: 405, body: kubeStatus(405, 'MethodNotAllowed', 'cannot delete a subresource') };
      store.delete(key(r.plural, ns!, name));
      const gone = structuredClone(current);
      gone.metadata.resourceVersion = String(++rv);
      record(r, 'DELETED', gone);
      return {
        status: 200,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name, group: r.group, kind: r.plural, uid: current.metadata.uid },
        },
      };
    }
    if (method === 'PUT') return answer(handleReplace(r, current, parsed as KubeObject, subresource, true));
    if (method === 'PATCH') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      let patched: unknown;
      if (type === 'application/merge-patch+json') patched = applyMergePatch(current, parsed);
      else if (type === 'application/json-patch+json') {
        if (!Array.isArray(parsed))
          return {
            status: 400,
            body: kubeStatus(400, 'BadRequest', 'a JSON patch must be an array of operations'),
          };
        patched = structuredClone(current);
        const failed = applyPatch(patched, parsed as Operation[]).find((e) => e !== null);
        if (failed)
          return {
            status: 422,
            body: kubeStatus(422, 'Invalid', `the JSON patch cannot be applied: ${failed.message}`),
          };
      } else
        return {
          status: 415,
          body: kubeStatus(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`,
          ),
        };
      const wanted = patched as KubeObject;
      // A patch carries a resourceVersion only when the client sent one: then it is a precondition.
      const sent = (parsed as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion;
      if (sent === undefined && wanted.metadata)
        wanted.metadata.resourceVersion = current.metadata.resourceVersion;
      return answer(handleReplace(r, current, wanted, subresource, false));
    }
    return { status: 405, body: kubeStatus(405, 'MethodNotAllowed', `${method} is not allowed`) };
  }

  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const reply = (status: number, payload: unknown) => {
        requests.push({ method: req.method ?? 'GET', path, status });
        res.writeHead(status, { 'Content-Type': JSON_TYPE });
        res.end(JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Bearer ${token}`)
        return reply(401, kubeStatus(401, 'Unauthorized', 'Unauthorized'));
      const failIndex = failures.findIndex((f) => !f.method || f.method === req.method);
      if (failIndex >= 0) {
        const [f] = failures.splice(failIndex, 1);
        const reason =
          f!.status === 503
            ? 'ServiceUnavailable'
            : f!.status === 504
              ? 'Timeout'
              : f!.status === 429
                ? 'TooManyRequests'
                : 'InternalError';
        return reply(f!.status, kubeStatus(f!.status, reason, `fake API server: injected ${f!.status}`));
      }
      const out = route(req, body, res);
      if (out === null) requests.push({ method: req.method ?? 'GET', path, status: 200 });
      else reply(out.status, out.body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const find = (r: CustomResource, namespace: string, name: string) =>
    store.get(key(r.plural, namespace, name));
  return {
    url,
    token,
    connection: { kind: 'url', server: url, token },
    requests,
    get: (r, namespace, name) => {
      const o = find(r, namespace, name);
      return o ? structuredClone(o) : null;
    },
    list: (r, namespace) =>
      [...store.entries()]
        .filter(([k]) => k.startsWith(`${r.plural}/${namespace ?? ''}`))
        .map(([, o]) => structuredClone(o)),
    setStatus(r, namespace, name, status) {
      const current = find(r, namespace, name);
      if (!current) throw new Error(`fake API server: no ${r.kind} ${namespace}/${name}`);
      const next = structuredClone(current);
      next.status = typeof status === 'function' ? status(structuredClone(current)) : structuredClone(status);
      const out = write(r, next, current);
      if ((out as StatusBody).kind === 'Status')
        throw new Error(`fake API server: ${(out as StatusBody).message}`);
      return out as KubeObject;
    },
    dropWatches() {
      const n = watchers.size;
      for (const w of [...watchers]) w.res.destroy();
      watchers.clear();
      return n;
    },
    watchers: () => watchers.size,
    failNext(count, o = {}) {
      for (let i = 0; i < count; i++)
        failures.push({ status: o.status ?? 503, ...(o.method ? { method: o.method } : {}) });
    },
    clearFailures() {
      failures.length = 0;
    },
    compact() {
      compactedAt = rv;
      history.length = 0;
    },
    resourceVersion: () => String(rv),
    async close() {
      for (const w of watchers) w.res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
