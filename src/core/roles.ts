/**
 * Who may do what. Three roles, each with the rights of those below it: a viewer reads; an operator also acts on
 * runs (trigger, backfill, clear, cancel, pause); an admin also manages users and connections.
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;

export type Role = (typeof ROLES)[number];

/** What a request needs: reading, acting on runs, or administering. */
export type Permission = 'read' | 'operate' | 'admin';

const NEEDED: Record<Permission, number> = { read: 0, operate: 1, admin: 2 };

export function allows(role: Role, permission: Permission): boolean {
  return ROLES.indexOf(role) >= NEEDED[permission];
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
