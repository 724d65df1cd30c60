-- Roles derived from groups (docs/roles.md). A tenant's roles have immutable slugs; the one
-- with is_default is given to every user no rule maps to a role.
CREATE TABLE roles (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    priority BIGINT NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, slug)
);
CREATE UNIQUE INDEX roles_one_default ON roles (tenant_id) WHERE is_default;

-- A rule gives its role to the direct members of the groups it matches, in any directory of
-- the tenant: `match_by` is group_id, idp_id (the group's externalId) or name (displayName,
-- compared case-folded: `value_ci`).
CREATE TABLE role_rules (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    match_by TEXT NOT NULL,
    value TEXT NOT NULL,
    value_ci TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (role_id, match_by, value_ci)
);
CREATE INDEX role_rules_tenant ON role_rules (tenant_id);

-- Each user's effective roles, materialized: a JSON array of slugs, highest priority first.
ALTER TABLE directory_users ADD COLUMN roles TEXT NOT NULL DEFAULT '[]';

-- One background recompute per tenant, restarted from the first user by every role or rule
-- change. It walks the tenant's directories, and each one's users, in id order (the
-- directory_users_walk index); (`after_directory`, `after_user`) is where the next batch
-- starts, so a restarted server resumes it.
CREATE TABLE role_recomputes (
    tenant_id TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    after_directory TEXT NOT NULL,
    after_user TEXT NOT NULL,
    total BIGINT NOT NULL,
    done BIGINT NOT NULL,
    changed BIGINT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
