/** One parsed configuration file; layers are ordered base first, highest precedence last. */
export interface Layer {
  readonly file: string;
  readonly data: unknown;
}

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Merge rule shared by every overlay: mappings merge key by key, anything else (lists, scalars)
 * replaces the base value, and `null` removes the key — the same rule as Helm values, which
 * administrators of the Kubernetes install already know.
 */
export function deepMerge(base: unknown, overlay: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(overlay)) return overlay;
  const merged: PlainObject = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (value === null) delete merged[key];
    else merged[key] = key in base ? deepMerge(base[key], value) : value;
  }
  return merged;
}

interface Contribution {
  readonly file: string;
  readonly value: unknown;
}

/**
 * The files that decided the value at `path` in the merged result, so an error can name them. A list or
 * scalar comes from the one layer that set it last; a mapping, or a key missing from a mapping, is
 * owned by every layer that contributed to that mapping.
 */
export function filesForPath(layers: readonly Layer[], path: readonly PropertyKey[]): string[] {
  let current = shadowed(layers.filter((layer) => layer.data !== undefined).map(toContribution));
  for (const key of path) {
    const next = current
      .filter((entry) => hasChild(entry.value, key))
      .map((entry) => ({ file: entry.file, value: childOf(entry.value, key) }));
    if (next.length === 0) break;
    current = shadowed(next);
  }
  return current.map((entry) => entry.file);
}

function toContribution(layer: Layer): Contribution {
  return { file: layer.file, value: layer.data };
}

// A non-mapping value hides everything below it, exactly as deepMerge replaces it.
function shadowed(entries: readonly Contribution[]): Contribution[] {
  let start = 0;
  entries.forEach((entry, index) => {
    if (!isPlainObject(entry.value)) start = index;
  });
  return entries.slice(start);
}

function hasChild(value: unknown, key: PropertyKey): boolean {
  if (Array.isArray(value)) return typeof key === 'number' && key >= 0 && key < value.length;
  return isPlainObject(value) && typeof key === 'string' && Object.hasOwn(value, key);
}

function childOf(value: unknown, key: PropertyKey): unknown {
  return (value as Record<PropertyKey, unknown>)[key];
}

/** `images.train.SFT.cpu`, `gpu_types.dev[2].name`; the root is `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}
