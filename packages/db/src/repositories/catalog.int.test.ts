import { randomUUID } from 'node:crypto';
import { createTestDb, seedModel, seedProject, testDbKind } from '@llmops/testing';
import type { SeededProject, TestDb } from '@llmops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../errors.ts';

let db: TestDb;
let home: SeededProject;
let other: SeededProject;
beforeAll(async () => {
  db = await createTestDb();
  home = await seedProject(db);
  other = await seedProject(db);
});
afterAll(async () => {
  await db.cleanup();
});

describe(`catalog models (${testDbKind()})`, () => {
  it('creates a model with defaults and reads it back within its project only', async () => {
    const model = await db.repos.models.create({
      projectId: home.project.id,
      name: 'llama-3-8b',
      modelFamily: 'llama',
      maxPositionEmbeddings: 8192,
      parameterCount: 8_030_261_248,
      metadata: { license: 'llama3', tags: ['base'] },
      createdBy: home.user.id,
    });
    expect(model).toMatchObject({
      version: '1',
      parameterCount: 8_030_261_248,
      storageUri: null,
      metadata: { license: 'llama3', tags: ['base'] },
    });
    expect(await db.repos.models.getById(home.project.id, model.id)).toEqual(model);
    expect(await db.repos.models.getById(other.project.id, model.id)).toBeNull();
    expect(await db.repos.models.getById(home.project.id, 'nope')).toBeNull();
  });

  it('finds by name: the given version, or the latest registered', async () => {
    const v1 = await seedModel(db, home.project.id, { name: 'mistral', version: '1' });
    const v2 = await seedModel(db, home.project.id, { name: 'mistral', version: '2' });
    expect((await db.repos.models.getByName(home.project.id, 'mistral'))?.id).toBe(v2.id);
    expect((await db.repos.models.getByName(home.project.id, 'mistral', '1'))?.id).toBe(v1.id);
    expect(await db.repos.models.getByName(home.project.id, 'mistral', '3')).toBeNull();
    expect(await db.repos.models.getByName(other.project.id, 'mistral')).toBeNull();
  });

  it('refuses the same name and version twice in a project, but not in another', async () => {
    await seedModel(db, home.project.id, { name: 'dup', version: '1' });
    const again = seedModel(db, home.project.id, { name: 'dup', version: '1' });
    await expect(again).rejects.toBeInstanceOf(ConflictError);
    await expect(again).rejects.toMatchObject({ constraint: 'catalog_models_project_name_version_key' });
    await expect(seedModel(db, other.project.id, { name: 'dup', version: '1' })).resolves.toMatchObject({
      name: 'dup',
    });
  });

  it('lists newest first with search, family filter, total and pagination', async () => {
    const { project } = await seedProject(db);
    const made = [];
    for (const [name, family] of [
      ['qwen-small', 'qwen'],
      ['qwen-large', 'qwen'],
      ['phi-mini', 'phi'],
      ['50%_model', 'phi'],
    ] as const) {
      made.push(
        await seedModel(db, project.id, { name, modelFamily: family, description: `${family} model` }),
      );
    }
    const all = await db.repos.models.list(project.id, { limit: 10, offset: 0 });
    expect(all.total).toBe(4);
    expect(all.items.map((m) => m.name)).toEqual(made.map((m) => m.name).reverse());
    const qwen = await db.repos.models.list(project.id, { family: 'qwen', limit: 1, offset: 1 });
    expect(qwen).toMatchObject({ total: 2, items: [{ name: 'qwen-small' }] });
    const search = await db.repos.models.list(project.id, { search: 'LARGE', limit: 10, offset: 0 });
    expect(search.items.map((m) => m.name)).toEqual(['qwen-large']);
    const literal = await db.repos.models.list(project.id, { search: '50%_', limit: 10, offset: 0 });
    expect(literal.items.map((m) => m.name)).toEqual(['50%_model']);
    const byDescription = await db.repos.models.list(project.id, {
      search: 'phi model',
      limit: 10,
      offset: 0,
    });
    expect(byDescription.total).toBe(2);
    const past = await db.repos.models.list(project.id, { limit: 10, offset: 10 });
    expect(past).toEqual({ items: [], total: 4 });
  });

  it('rejects a bad page with a precise error', async () => {
    await expect(db.repos.models.list(home.project.id, { limit: 0, offset: 0 })).rejects.toThrow(
      'limit must be an integer from 1 to 1000, got 0',
    );
  });
});

describe(`catalog datasets (${testDbKind()})`, () => {
  const dataset = (projectId: string, name: string, version: string, type = 'sft') => ({
    projectId,
    name,
    version,
    type,
    storageUri: `s3://datasets/${name}/${version}.jsonl`,
    createdBy: 'test',
  });

  it('creates a reference and a validated upload, readable within the project only', async () => {
    const ref = await db.repos.datasets.create(dataset(home.project.id, 'alpaca', '1'));
    expect(ref).toMatchObject({
      sha256: null,
      sizeBytes: null,
      rowCount: null,
      format: null,
      validation: null,
    });
    const uploaded = await db.repos.datasets.create({
      ...dataset(home.project.id, 'alpaca', '2'),
      sha256: 'a'.repeat(64),
      sizeBytes: 5_000_000_000,
      rowCount: 52_002,
      format: 'jsonl',
      validation: { rows: 52_002, valid: 52_002, errors: [] },
    });
    expect(uploaded).toMatchObject({ sizeBytes: 5_000_000_000, rowCount: 52_002, format: 'jsonl' });
    expect(uploaded.validation).toEqual({ rows: 52_002, valid: 52_002, errors: [] });
    expect(await db.repos.datasets.getById(home.project.id, uploaded.id)).toEqual(uploaded);
    expect(await db.repos.datasets.getById(other.project.id, uploaded.id)).toBeNull();
    expect(await db.repos.datasets.getByNameVersion(home.project.id, 'alpaca', '1')).toEqual(ref);
    expect(await db.repos.datasets.getByNameVersion(home.project.id, 'alpaca', '3')).toBeNull();
  });

  it('refuses a duplicate name and version, and a malformed sha256', async () => {
    await db.repos.datasets.create(dataset(home.project.id, 'dolly', '1'));
    await expect(db.repos.datasets.create(dataset(home.project.id, 'dolly', '1'))).rejects.toMatchObject({
      constraint: 'catalog_datasets_project_name_version_key',
    });
    const badHash = db.repos.datasets.create({ ...dataset(home.project.id, 'dolly', '2'), sha256: 'xyz' });
    await expect(badHash).rejects.toMatchObject({ code: '23514' });
  });

  it('lists with search, type filter and pagination', async () => {
    const { project } = await seedProject(db);
    await db.repos.datasets.create(dataset(project.id, 'chat-a', '1', 'sft'));
    await db.repos.datasets.create(dataset(project.id, 'chat-b', '1', 'preference'));
    await db.repos.datasets.create(dataset(project.id, 'code', '1', 'sft'));
    const sft = await db.repos.datasets.list(project.id, { type: 'sft', limit: 10, offset: 0 });
    expect(sft.items.map((d) => d.name)).toEqual(['code', 'chat-a']);
    const chat = await db.repos.datasets.list(project.id, { search: 'chat', limit: 1, offset: 0 });
    expect(chat).toMatchObject({ total: 2, items: [{ name: 'chat-b' }] });
    expect(await db.repos.datasets.list(randomUUID(), { limit: 10, offset: 0 })).toEqual({
      items: [],
      total: 0,
    });
  });
});
