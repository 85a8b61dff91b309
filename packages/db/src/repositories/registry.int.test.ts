import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, seedProject, testDbKind, type TestDb } from '@llmops/testing';
import type { AppendAliasMoveInput } from './registry.ts';

let db: TestDb;
let projectId: string;
beforeEach(async () => {
  db = await createTestDb();
  projectId = (await seedProject(db)).project.id;
});
afterEach(async () => {
  await db.cleanup();
});

const move = (o: Partial<AppendAliasMoveInput> = {}): AppendAliasMoveInput => ({
  projectId,
  modelName: 'llama-sft',
  alias: 'staging',
  kind: 'promote',
  fromVersion: null,
  toVersion: '1',
  actor: 'user:alice',
  ...o,
});

describe(`registry alias moves (${testDbKind()})`, () => {
  it('keeps the moves of each alias in order, per alias or for the whole model', async () => {
    const p1 = await db.repos.registry.appendMove(move());
    await db.repos.registry.appendMove(move({ alias: 'prod', toVersion: '1' }));
    const p2 = await db.repos.registry.appendMove(move({ fromVersion: '1', toVersion: '2' }));
    const r = await db.repos.registry.appendMove(
      move({ kind: 'rollback', fromVersion: '2', toVersion: '1', revertsId: p2.id }),
    );
    await db.repos.registry.appendMove(move({ modelName: 'other' }));
    const staging = await db.repos.registry.history('llama-sft', 'staging');
    expect(staging.map((m) => [m.kind, m.fromVersion, m.toVersion, m.revertsId])).toEqual([
      ['promote', null, '1', null],
      ['promote', '1', '2', null],
      ['rollback', '2', '1', p2.id],
    ]);
    expect(staging[0]).toMatchObject({ id: p1.id, projectId, actor: 'user:alice' });
    expect(r.at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect((await db.repos.registry.history('llama-sft')).map((m) => m.alias)).toEqual([
      'staging',
      'prod',
      'staging',
      'staging',
    ]);
  });

  it('refuses a rollback that names no promotion and undoing one promotion twice', async () => {
    await expect(db.repos.registry.appendMove(move({ kind: 'rollback' }))).rejects.toThrow();
    const p = await db.repos.registry.appendMove(move());
    await db.repos.registry.appendMove(move({ kind: 'rollback', revertsId: p.id }));
    await expect(db.repos.registry.appendMove(move({ kind: 'rollback', revertsId: p.id }))).rejects.toThrow();
    expect(await db.repos.registry.history('llama-sft', 'staging')).toHaveLength(2);
  });

  it('serialises work under the lock of one alias and rolls back a failed move', async () => {
    const order: string[] = [];
    const slow = (name: string, ms: number) =>
      db.repos.registry.withAliasLock('llama-sft', 'staging', async () => {
        order.push(`${name}:start`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`${name}:end`);
      });
    await Promise.all([slow('a', 50), slow('b', 0)]);
    // Whichever takes the lock first, the other starts only after it ended.
    const first = order[0]!.split(':')[0]!;
    const second = first === 'a' ? 'b' : 'a';
    expect(order).toEqual([`${first}:start`, `${first}:end`, `${second}:start`, `${second}:end`]);

    await expect(
      db.repos.registry.withAliasLock('llama-sft', 'staging', async () => {
        await db.repos.registry.appendMove(move());
        throw new Error('MLflow refused the alias');
      }),
    ).rejects.toThrow('MLflow refused the alias');
    expect(await db.repos.registry.history('llama-sft', 'staging')).toEqual([]);
  });
});
