import { describe, expect, it } from 'vitest';
import { activeNav, menuPages, NAV_GROUPS } from './nav.ts';

const at = (path: string) => {
  const a = activeNav(path);
  return [a.group?.label ?? null, a.item?.label ?? null];
};

describe('navigation groups (FR-014)', () => {
  it('has exactly the groups and items of the specification, in order', () => {
    expect(NAV_GROUPS.map((g) => [g.label, g.items.map((i) => i.label)])).toEqual([
      ['Catalog', ['Models', 'Datasets']],
      ['ML Operations', ['Training', 'Experiments', 'Serving']],
      ['Governance', ['Policies', 'Audit', 'Costs']],
      ['Admin', ['Integrations']],
    ]);
  });

  it('puts every page within two clicks: one for Getting Started, two for a group item', () => {
    const pages = menuPages();
    expect(pages).toHaveLength(10);
    expect(pages[0]).toMatchObject({ group: null, item: { label: 'Getting Started' }, clicks: 1 });
    expect(pages.every((p) => p.clicks <= 2)).toBe(true);
  });
});

describe('active group and item (FR-015)', () => {
  it.each([
    ['/', null, 'Getting Started'],
    ['/getting-started', null, 'Getting Started'],
    ['/catalog/models', 'Catalog', 'Models'],
    ['/catalog/models/0b7c2c1e-1', 'Catalog', 'Models'],
    ['/catalog/datasets/abc?tab=report', 'Catalog', 'Datasets'],
    ['/training/jobs', 'ML Operations', 'Training'],
    ['/training/jobs/new', 'ML Operations', 'Training'],
    ['/training/jobs/42/', 'ML Operations', 'Training'],
    ['/experiments/compare?runs=a,b', 'ML Operations', 'Experiments'],
    ['/serving/endpoints/e1#manifest', 'ML Operations', 'Serving'],
    ['/governance/policies', 'Governance', 'Policies'],
    ['/governance/audit', 'Governance', 'Audit'],
    ['/governance/costs', 'Governance', 'Costs'],
    ['/admin/integrations', 'Admin', 'Integrations'],
  ])('%s → %s / %s', (path, group, item) => {
    expect(at(path)).toEqual([group, item]);
  });

  it('does not mistake a page whose name starts like another for it', () => {
    expect(at('/catalog/models-archive')).toEqual([null, null]);
    expect(at('/experimentsX')).toEqual([null, null]);
  });

  it('highlights nothing for a page outside the menu', () => {
    expect(at('/nowhere')).toEqual([null, null]);
    expect(at('/sign-in')).toEqual([null, null]);
  });
});
