import type { Role } from '@llmops/client';

// What a role may do, as the API enforces it (README, "Projects, roles and tokens"): the console hides or
// disables what the server would refuse, and still shows the server's 403 if it does.
const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

export type Capability = 'read' | 'write' | 'admin';

const NEEDS: Record<Capability, Role> = { read: 'viewer', write: 'editor', admin: 'admin' };

export function allows(role: Role | null | undefined, capability: Capability, orgAdmin = false): boolean {
  if (orgAdmin) return true;
  if (!role) return false;
  return RANK[role] >= RANK[NEEDS[capability]];
}
