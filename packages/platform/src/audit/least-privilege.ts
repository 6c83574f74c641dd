/**
 * PostgreSQL least privilege for the audit log: the statements (run by the schema owner, after the
 * platform has migrated the database once as the owner) that let an application role run the platform
 * while it may only insert into and read the audit tables. docs/audit.md shows the same statements.
 */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** The append-only tables: the application role gets SELECT and INSERT on them, nothing else. */
export const APPEND_ONLY_AUDIT_TABLES = ['audit_events', 'audit_leaves', 'audit_tree_heads'] as const;

export function applicationRoleGrants(role: string, database: string): string[] {
  for (const name of [role, database])
    if (!IDENTIFIER.test(name)) throw new Error(`${name} is not a plain lower-case SQL identifier`);
  const audit = APPEND_ONLY_AUDIT_TABLES.join(', ');
  return [
    `GRANT CONNECT ON DATABASE ${database} TO ${role}`,
    `GRANT USAGE ON SCHEMA public TO ${role}`,
    // The rest of the schema is the application's to change; TRUNCATE is never granted.
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`,
    `REVOKE UPDATE, DELETE, TRUNCATE ON ${audit} FROM ${role}`,
  ];
}
