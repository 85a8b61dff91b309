import { describe, expect, it } from 'vitest';
import { allows } from './roles.ts';

describe('what a role may do in the console', () => {
  it('lets a viewer read only', () => {
    expect(allows('viewer', 'read')).toBe(true);
    expect(allows('viewer', 'write')).toBe(false);
    expect(allows('viewer', 'admin')).toBe(false);
  });
  it('lets an editor submit and register but not administer', () => {
    expect(allows('editor', 'write')).toBe(true);
    expect(allows('editor', 'admin')).toBe(false);
  });
  it('lets an admin do everything, and an organisation admin too without a project role', () => {
    expect(allows('admin', 'admin')).toBe(true);
    expect(allows(null, 'admin', true)).toBe(true);
  });
  it('allows nothing without a role', () => {
    expect(allows(null, 'read')).toBe(false);
  });
});
