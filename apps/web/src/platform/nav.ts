// The console's navigation (FR-014…FR-016): one standalone link and four groups. Which group and item are
// active follows from the path alone, so a deep link or a dynamic route opened directly is highlighted
// the same way as a page reached through the menu.

export interface NavItem {
  id: string;
  label: string;
  /** Where the menu entry leads. */
  to: string;
  /** Every path equal to this or below it belongs to the item (details, forms). */
  base: string;
}

export interface NavGroup {
  id: string;
  label: string;
  items: NavItem[];
}

export const GETTING_STARTED: NavItem = {
  id: 'getting-started',
  label: 'Getting Started',
  to: '/getting-started',
  base: '/getting-started',
};

export const NAV_GROUPS: readonly NavGroup[] = [
  {
    id: 'catalog',
    label: 'Catalog',
    items: [
      { id: 'models', label: 'Models', to: '/catalog/models', base: '/catalog/models' },
      { id: 'datasets', label: 'Datasets', to: '/catalog/datasets', base: '/catalog/datasets' },
    ],
  },
  {
    id: 'ml-operations',
    label: 'ML Operations',
    items: [
      { id: 'training', label: 'Training', to: '/training/jobs', base: '/training' },
      { id: 'experiments', label: 'Experiments', to: '/experiments', base: '/experiments' },
      { id: 'serving', label: 'Serving', to: '/serving/endpoints', base: '/serving' },
    ],
  },
  {
    id: 'governance',
    label: 'Governance',
    items: [
      { id: 'policies', label: 'Policies', to: '/governance/policies', base: '/governance/policies' },
      { id: 'audit', label: 'Audit', to: '/governance/audit', base: '/governance/audit' },
      { id: 'costs', label: 'Costs', to: '/governance/costs', base: '/governance/costs' },
    ],
  },
  {
    id: 'admin',
    label: 'Admin',
    items: [
      {
        id: 'integrations',
        label: 'Integrations',
        to: '/admin/integrations',
        base: '/admin/integrations',
      },
    ],
  },
];

export interface ActiveNav {
  /** The group whose item is active; null for Getting Started and pages outside the menu. */
  group: NavGroup | null;
  item: NavItem | null;
}

const within = (path: string, base: string) => path === base || path.startsWith(`${base}/`);

/** The group and item a path belongs to; a trailing slash, query or hash does not change the answer. */
export function activeNav(fullPath: string): ActiveNav {
  const path = fullPath.split(/[?#]/)[0]!.replace(/\/+$/, '') || '/';
  if (path === '/' || within(path, GETTING_STARTED.base)) return { group: null, item: GETTING_STARTED };
  for (const group of NAV_GROUPS) {
    const item = group.items.find((i) => within(path, i.base));
    if (item) return { group, item };
  }
  return { group: null, item: null };
}

/** Every page of the menu, in menu order, with the clicks it takes from the home page. */
export function menuPages(): { group: NavGroup | null; item: NavItem; clicks: number }[] {
  return [
    { group: null, item: GETTING_STARTED, clicks: 1 },
    ...NAV_GROUPS.flatMap((group) => group.items.map((item) => ({ group, item, clicks: 2 }))),
  ];
}
